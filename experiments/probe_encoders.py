"""How much of the task state each frozen encoder set holds: a linear probe on held-out episodes.

    python experiments/probe_encoders.py                              # the shipped Lift skills, alone and in sets
    python experiments/probe_encoders.py --sets ae ae,seg ae,seg,depth_rgb --steps 2000

A random policy runs in the task (both default cameras, 84x84); for every step we keep the images and the
simulator's ground truth: the object's position relative to the gripper (what a Lift policy must find), the
object's position on the table and the gripper's own position. Every encoder set embeds the images of both
cameras (tokens concatenated, as LIN would), and ridge regression, fitted on the first 80% of the episodes,
predicts the ground truth on the last 20%. The score is R^2 per target (1 = perfect, 0 = no better than the
mean). It complements the short learn checks of experiments/learn_check.py: a probe is cheap and low-variance,
an RL curve on this budget is not; neither alone says which set learns fastest.

Writes results/probe_lift.json (atomically) and prints a table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from wsa_robot.core.atomic import write_json
from wsa_robot.core.provenance import provenance
from wsa_robot.encoders.bank import EncoderBank
from wsa_robot.encoders.registry import build_encoder
from wsa_robot.core.keys import PROPRIO
from wsa_robot.envs.tasks import load_task

DEFAULT_SETS = ["ae", "depth_rgb", "seg", "tcn", "kp", "sim_depth", "ae,seg", "ae,depth_rgb", "ae,tcn", "ae,kp",
                "ae,seg,depth_rgb", "ae,seg,depth_rgb,tcn,kp"]
TARGETS = ("object_minus_gripper", "object_pos", "gripper_pos")


def collect(task_name: str, steps: int, episode_length: int, seed: int) -> tuple[dict, dict, np.ndarray]:
    """Images (and depth) per camera, ground-truth targets and the episode index of every step."""
    from wsa_robot.envs.robosuite.env import RobosuiteEnv

    task = load_task(task_name)
    env = RobosuiteEnv(task, task.cameras, 84, depth=True, seed=seed, horizon=episode_length)
    inner = env._env
    object_body = inner.sim.model.body_name2id(inner.model.mujoco_objects[0].root_body)
    rng = np.random.default_rng(seed)
    images: dict[str, list] = {}
    targets: dict[str, list] = {t: [] for t in TARGETS}
    episodes = []
    obs, _ = env.reset(seed=seed)
    episode = t = 0
    try:
        for _ in range(steps):
            for key, value in obs.items():
                if key != PROPRIO:
                    images.setdefault(key, []).append(value)
            obj = np.array(inner.sim.data.body_xpos[object_body])
            grip = np.array(inner.sim.data.site_xpos[inner.robots[0].eef_site_id["right"]])
            for name, value in zip(TARGETS, (obj - grip, obj, grip)):
                targets[name].append(value)
            episodes.append(episode)
            obs, _, _, truncated, _ = env.step(rng.uniform(env.action_space.low, env.action_space.high))
            t += 1
            if truncated or t >= episode_length:
                episode, t = episode + 1, 0
                obs, _ = env.reset()
    finally:
        env.close()
    return ({k: np.stack(v) for k, v in images.items()}, {k: np.stack(v) for k, v in targets.items()},
            np.asarray(episodes))


def embed(names: list[str], cameras: list[str], images: dict[str, np.ndarray], batch: int = 256) -> np.ndarray:
    """[N, D]: every encoder on every camera, flattened and concatenated."""
    bank = EncoderBank([build_encoder(n) for n in names], cameras)
    n = len(images[cameras[0]])
    parts = []
    for i in range(0, n, batch):
        out = bank.embed({k: v[i:i + batch] for k, v in images.items()})
        parts.append(np.concatenate([out[k].reshape(len(out[k]), -1).astype(np.float32) for k in sorted(out)], 1))
    return np.concatenate(parts)


def ridge_r2(x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, alphas=(0.1, 1, 10, 100)) -> dict:
    """Held-out R^2 of ridge regression (inputs standardised on the train split); the ridge strength is picked
    on a validation slice of the training episodes, never on the test ones."""
    mu, sd = x[train].mean(0), x[train].std(0) + 1e-6
    x = (x - mu) / sd
    x = np.concatenate([x, np.ones((len(x), 1))], 1)
    cut = int(len(train) * 0.8)
    fit, val = train[:cut], train[cut:]

    def solve(rows, alpha):
        a = x[rows]
        return np.linalg.solve(a.T @ a + alpha * np.eye(a.shape[1]), a.T @ y[rows])

    def r2(rows, w):
        # pooled over the target's dimensions, so a nearly constant one (the object's height) weighs little
        resid = ((y[rows] - x[rows] @ w) ** 2).sum()
        total = ((y[rows] - y[rows].mean(0)) ** 2).sum()
        return float(1 - resid / total)

    best = max(alphas, key=lambda a: r2(val, solve(fit, a)))
    return {"r2": round(r2(test, solve(train, best)), 4), "alpha": best}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", default="Lift")
    p.add_argument("--sets", nargs="*", default=DEFAULT_SETS, help="comma-separated encoder sets")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--episode-length", type=int, default=100)
    p.add_argument("--seed", type=int, default=123)  # not the pretraining seed (0): unseen episodes
    p.add_argument("--out", type=Path, default=Path("results/probe_lift.json"))
    args = p.parse_args()
    torch.manual_seed(0)
    prov = provenance()
    t0 = time.time()
    images, targets, episodes = collect(args.task, args.steps, args.episode_length, args.seed)
    cameras = load_task(args.task).cameras
    cut = np.quantile(np.unique(episodes), 0.8)
    train, test = np.flatnonzero(episodes < cut), np.flatnonzero(episodes >= cut)
    results = {}
    for spec in args.sets:
        names = spec.split(",")
        x = embed(names, cameras, images)
        row = {"dim": int(x.shape[1])}
        row.update({t: ridge_r2(x, targets[t], train, test) for t in TARGETS})
        row["mean_r2"] = round(float(np.mean([row[t]["r2"] for t in TARGETS])), 4)
        results[spec] = row
        print(f"{spec:<28} dim {x.shape[1]:>5}  " + "  ".join(f"{t} {row[t]['r2']:.3f}" for t in TARGETS), flush=True)
    write_json(args.out, {
        "provenance": prov, "task": args.task, "cameras": cameras, "steps": args.steps, "episodes": int(episodes.max() + 1),
        "train_steps": int(len(train)), "test_steps": int(len(test)), "seed": args.seed,
        "policy": "uniform random actions", "probe": "ridge regression on standardised concatenated tokens",
        "targets": {"object_minus_gripper": "object position minus gripper site position (m)",
                    "object_pos": "object position (m)", "gripper_pos": "gripper site position (m)"},
        "wall_s": round(time.time() - t0, 1), "sets": results})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
