"""Pretrain the paper's Atari skills (ST-DIM, Transporter, VOS, the autoencoder context) for several games.

Three steps, so that the training can run on another machine than the emulator:

    python scripts/pretrain_atari.py collect --games Pong,Breakout,MsPacman --frames 50000
        random-policy frames per game (wsa_robot.pretrain.collect), saved compressed to data/atari_frames/
    python scripts/pretrain_atari.py train --steps 3000 --out /tmp/atari_skills
        every (game, skill) from those frames, `--jobs` at a time, each into its own folder with its manifest
        entry; needs only torch, numpy and rich (no ALE), and uses CUDA when there is one
    python scripts/pretrain_atari.py install /tmp/atari_skills
        copies the weights into assets/ and merges their manifest entries (sha256 recomputed)

One game and skill on this machine is simply `wsa-robot pretrain --task atari/Pong --skill vos`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SKILLS = ("autoencoder", "stdim", "keypoints", "vos")
BATCH = {"autoencoder": 32, "stdim": 64, "keypoints": 64, "vos": 32}  # the reference's batch sizes
FRAMES_DIR = ROOT / "data" / "atari_frames"


def collect(games: list[str], frames: int, out: Path, seed: int) -> None:
    from wsa_robot.pretrain.collect import collect_frames
    from wsa_robot.pretrain.frames import save_frames
    from wsa_robot.envs.tasks import load_task

    for game in games:
        start = time.time()
        got = collect_frames(load_task(f"atari/{game}"), ["screen"], frames, seed=seed)
        path = out / f"{game}.npz"
        save_frames(path, got, compressed=True)
        print(f"{game}: {len(got)} frames, {len(set(got.episode.tolist()))} episodes, "
              f"{path.stat().st_size / 2**20:.1f} MiB, {time.time() - start:.0f} s", flush=True)


def train_one(game: str, skill: str, frames_dir: Path, out: Path, steps: int, seed: int, device: str,
              threads: int) -> dict:
    import torch

    from wsa_robot.pretrain import train_and_save
    from wsa_robot.pretrain.frames import load_frames

    torch.set_num_threads(threads)
    frames = load_frames(frames_dir / f"{game}.npz")
    start = time.time()
    entry = train_and_save(skill, frames, f"atari/{game}", ["screen"], steps, out / f"{game}-{skill}", seed,
                           BATCH[skill], device=device,
                           provenance=f"random-policy frames, scripts/pretrain_atari.py on {device}")
    return {"game": game, "skill": skill, "seconds": round(time.time() - start, 1), "metric": entry["metric"],
            "value": entry[entry["metric"]]}


def train(games: list[str], skills: list[str], frames_dir: Path, out: Path, steps: int, seed: int, jobs: int,
          device: str) -> None:
    import torch

    device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    threads = max(1, (torch.get_num_threads() if device == "cpu" else 2 * jobs) // jobs)
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:  # CUDA can't fork
        futures = [pool.submit(train_one, g, s, frames_dir, out, steps, seed, device, threads)
                   for g in games for s in skills]
        rows = []
        for f in futures:
            rows.append(f.result())
            print(json.dumps(rows[-1]), flush=True)
    (out / "timings.json").write_text(json.dumps({"device": device, "steps": steps, "rows": rows}, indent=1))


def install(src: Path, assets: Path) -> None:
    from wsa_robot.core.assets import add_to_manifest, read_manifest

    for folder in sorted(p for p in src.iterdir() if p.is_dir()):
        for key, entry in read_manifest(folder).items():
            target = assets / entry["file"]
            shutil.copyfile(folder / entry["file"], target)
            rest = {k: v for k, v in entry.items() if k not in ("file", "sha256")}
            add_to_manifest(key, target, rest, assets)
            print(f"installed {key}: {entry['metric']} {entry[entry['metric']]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--games", default="Pong,Breakout,MsPacman")
    c.add_argument("--frames", type=int, default=50000, help="agent steps per game (each a 4-frame stack)")
    c.add_argument("--out", type=Path, default=FRAMES_DIR)
    c.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("train")
    t.add_argument("--games", default="Pong,Breakout,MsPacman")
    t.add_argument("--skills", default=",".join(SKILLS))
    t.add_argument("--frames-dir", type=Path, default=FRAMES_DIR)
    t.add_argument("--steps", type=int, default=3000)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--jobs", type=int, default=1, help="(game, skill) pairs trained at once")
    t.add_argument("--device", default="auto", help="auto (CUDA when there is one), cpu, cuda")
    i = sub.add_parser("install")
    i.add_argument("src", type=Path)
    i.add_argument("--assets", type=Path, default=ROOT / "assets")
    args = parser.parse_args()
    if args.command == "collect":
        collect(args.games.split(","), args.frames, args.out, args.seed)
    elif args.command == "train":
        train(args.games.split(","), args.skills.split(","), args.frames_dir, args.out, args.steps, args.seed,
              args.jobs, args.device)
    else:
        install(args.src, args.assets)


if __name__ == "__main__":
    main()
