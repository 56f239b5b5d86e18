"""One autoencoder trained on the frames of several robosuite tasks at once (same scene family: a Panda on a
table, the same two cameras), with its held-out reconstruction MSE per task, saved in assets/ with its manifest
entry. The recipe of `wsa-robot pretrain --skill autoencoder` (random policy, 100-step episodes, the last 10%
of each task's episodes held out, Adam 1e-3, batch 32), on the union of the tasks' frames.

    python scripts/pretrain_shared.py --tasks Stack PickPlaceCan Door NutAssemblyRound --name ae_robosuite

Frames come from data/frames/ when `wsa-robot pretrain` (or an earlier run of this) cached them.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from wsa_robot.core.assets import add_to_manifest
from wsa_robot.encoders.checkpoint import save_model
from wsa_robot.pretrain.collect import collect_frames
from wsa_robot.pretrain.frames import Frames, split_by_episode
from wsa_robot.pretrain.skills import SKILLS, skill_output_shape
from wsa_robot.pretrain.trainer import train_skill
from wsa_robot.core.resources import data_dir
from wsa_robot.envs.tasks import check_cameras, load_task


def union(tasks: list[str], frames_per_camera: int, seed: int) -> tuple[Frames, list[str], dict[str, np.ndarray],
                                                                        np.ndarray, np.ndarray]:
    """The tasks' frames end to end (episode ids kept apart), the cameras, and the held-out indices by task;
    each task is split on its own, so every task has held-out episodes."""
    images, episodes, val_by_task, train, val = [], [], {}, [], []
    cameras: list[str] | None = None
    offset, episode_offset = 0, 0
    for name in tasks:
        task = load_task(name)
        if cameras is not None and task.cameras != cameras:
            raise SystemExit(f"{name} renders {task.cameras}, the others {cameras}: one encoder per camera set")
        cameras = check_cameras(task, task.cameras)
        frames = collect_frames(task, cameras, frames_per_camera, seed=seed)
        t, v = split_by_episode(frames.episode)
        train.append(t + offset)
        val.append(v + offset)
        val_by_task[name] = v + offset
        images.append(frames.images)
        episodes.append(frames.episode + episode_offset)
        offset += len(frames)
        episode_offset = int(episodes[-1].max()) + 1
    frames = Frames(np.concatenate(images), None, None, np.concatenate(episodes), len(cameras))
    return frames, cameras, val_by_task, np.concatenate(train), np.concatenate(val)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", required=True)
    parser.add_argument("--name", required=True, help="the encoder's name and file stem, e.g. ae_robosuite")
    parser.add_argument("--frames", type=int, default=3000, help="frames per camera per task")
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    skill = SKILLS["autoencoder"]
    frames, cameras, val_by_task, train_idx, val_idx = union(args.tasks, args.frames, args.seed)
    model, metrics = train_skill(skill, frames, train_idx, val_idx, steps=args.steps, seed=args.seed)
    start = time.time()
    with torch.inference_mode():
        by_task = {name: round(skill.evaluate(model.eval(), frames, idx), 6) for name, idx in val_by_task.items()}
    print(f"held-out {skill.metric} by task: {by_task} ({time.time() - start:.0f} s)")
    weights = data_dir("assets") / f"{args.name}.pt"
    save_model(model, weights)
    entry = {
        "encoder": args.name, "skill": skill.name, "task": "+".join(args.tasks), "tasks": args.tasks,
        "cameras": cameras, "image_size": model.config["image_size"], "in_channels": frames.channels,
        "output_shape": list(skill_output_shape(model)),
        "frames": int(len(frames)), "train_frames": int(len(train_idx)), "val_frames": int(len(val_idx)),
        "steps": args.steps, "batch_size": 32, "lr": skill.lr, "metric": skill.metric,
        **{k: round(v, 6) if isinstance(v, float) else v for k, v in metrics.items()},
        f"{skill.metric}_by_task": by_task,
        "seed": args.seed, "created": time.strftime("%Y-%m-%d"),
        "provenance": "random-policy frames of each task, scripts/pretrain_shared.py",
    }
    print(add_to_manifest(args.name, weights, entry))


if __name__ == "__main__":
    main()
