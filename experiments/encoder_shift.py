"""How far each frozen encoder's embedding moves under each visual variation, relative to how far it moves
between states of one episode (issue 36: "how far an embedding moves under each variation, relative to how far
it moves between states of one episode"). Writes results/encoder_shift.json with provenance.

A random policy (seeded) plays a few Lift episodes; each is played again, with the same seed and actions, under
every variation (seed 0, as `wsa-robot eval --variations all` shows them): the variations change only pixels,
so step t shows the same state in every condition (tests/test_pretrain.py checks it). For encoder e, camera c
and variation v:

    shift(e, c, v) = mean_t |z_v(t) - z(t)| / mean_(t, t') |z(t) - z(t')|

(t, t' two steps of one intact episode, drawn at random). 0: the variation does not move the embedding; 1: it
moves it as far as a random change of state within an episode does. Lower is more robust.

    python experiments/encoder_shift.py --encoders ae,scene --episodes 4 --steps 50
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from wsa_robot.core.atomic import write_json
from wsa_robot.core.provenance import provenance
from wsa_robot.encoders.registry import build_encoder
from wsa_robot.envs import make_env
from wsa_robot.envs.task_variations import variations_for
from wsa_robot.envs.tasks import load_task

SEED = 7000  # the episodes' seeds: SEED + k, a stream apart from training (0..) and evaluation


def play(task, cameras: list[str], image_size: int, seed: int, steps: int, variation: str | None
         ) -> dict[str, np.ndarray]:
    """Frames of one episode under `variation`: the same actions (from `seed`) whatever the variation."""
    env = make_env(task, cameras, image_size, seed=seed, horizon=steps + 1)
    rng = np.random.default_rng(seed)
    try:
        env.unwrapped.set_variation(variation)
        obs = env.reset(seed=seed)[0]
        frames = {c: [obs[c]] for c in cameras}
        for _ in range(steps - 1):
            obs = env.step(rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32))[0]
            for c in cameras:
                frames[c].append(obs[c])
    finally:
        env.close()
    return {c: np.stack(v) for c, v in frames.items()}


def embed(encoder, images: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return encoder(torch.from_numpy(images)).flatten(1).float().numpy()


def within_episode(z: np.ndarray, rng: np.random.Generator, pairs: int = 200) -> float:
    t, u = rng.integers(0, len(z), (2, pairs))
    keep = t != u
    return float(np.linalg.norm(z[t[keep]] - z[u[keep]], axis=1).mean())


def print_tables(rows: list[dict], names: list[str], cameras: list[str], variations: list[str]) -> None:
    """One table per camera, a row per variation and a column per encoder: 80 columns for 5 encoders."""
    width, cell = max(len(v) for v in variations), max(8, *(len(n) for n in names)) + 2
    print("shift: embedding moved by the variation / moved within an episode (lower: more robust)")
    for c in cameras:
        print(f"\n{c}")
        print(f"{'variation':<{width}}" + "".join(f"{n:>{cell}}" for n in names))
        for v in variations:
            cells = [next(r["shift"] for r in rows if (r["encoder"], r["camera"], r["variation"]) == (n, c, v))
                     for n in names]
            print(f"{v:<{width}}" + "".join(f"{x:>{cell}.3f}" for x in cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="Lift")
    parser.add_argument("--encoders", default="ae,scene", help="comma list of registered encoders")
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--steps", type=int, default=50, help="steps per episode")
    parser.add_argument("--image-size", type=int, default=84)
    parser.add_argument("--out", type=Path, default=Path("results/encoder_shift.json"))
    args = parser.parse_args()
    prov = provenance()
    task = load_task(args.task)
    cameras = list(task.cameras)
    names = [n.strip() for n in args.encoders.split(",") if n.strip()]
    encoders = {n: build_encoder(n) for n in names}
    variations = [v for v, spec in variations_for(task).items() if spec.in_all]
    rng = np.random.default_rng(0)
    moved: dict[tuple[str, str, str], list[float]] = {}
    scale: dict[tuple[str, str], list[float]] = {}
    for k in range(args.episodes):
        seed = SEED + k
        intact = play(task, cameras, args.image_size, seed, args.steps, None)
        base = {(n, c): embed(e, intact[c]) for n, e in encoders.items() for c in cameras}
        for key, z in base.items():
            scale.setdefault(key, []).append(within_episode(z, rng))
        for v in variations:
            shown = play(task, cameras, args.image_size, seed, args.steps, v)
            for (n, c), z in base.items():
                d = np.linalg.norm(embed(encoders[n], shown[c]) - z, axis=1).mean()
                moved.setdefault((n, c, v), []).append(float(d))
        print(f"episode {k + 1}/{args.episodes} done")
    rows = []
    for (n, c, v), ds in moved.items():
        rows.append({"encoder": n, "camera": c, "variation": v,
                     "shift": round(float(np.mean(ds) / np.mean(scale[(n, c)])), 4),
                     "moved": round(float(np.mean(ds)), 4), "within_episode": round(float(np.mean(scale[(n, c)])), 4)})
    summary = {n: {c: round(float(np.mean([r["shift"] for r in rows if r["encoder"] == n and r["camera"] == c])), 4)
                   for c in cameras} for n in names}
    write_json(args.out, {"task": args.task, "cameras": cameras, "encoders": names, "variations": variations,
                          "episodes": args.episodes, "steps": args.steps, "episode_seeds": [SEED, SEED + args.episodes - 1],
                          "definition": "mean |z_v(t) - z(t)| / mean |z(t) - z(t')| over t, t' of one intact episode",
                          "rows": rows, "mean_shift": summary, "provenance": prov})
    print_tables(rows, names, cameras, variations)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
