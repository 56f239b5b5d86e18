"""`wsa-robot pretrain`: train the project's own encoders from simulator frames and ship them in assets/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from wsa_robot.assets import add_to_manifest
from wsa_robot.errors import UserError
from wsa_robot.resources import data_dir
from wsa_robot.tasks import check_cameras, load_task

SKILL_NAMES = ("autoencoder", "depth", "segmentation", "contrastive", "keypoints", "stdim")


def pretrain(task_name: str, skill_name: str, frames_per_camera: int = 3000, steps: int = 3000,
             cameras: list[str] | None = None, out_dir: Path | None = None, seed: int = 0,
             batch_size: int = 32, episode_length: int | None = None, cache: Path | None = None) -> dict[str, Any]:
    """Collect frames with a random policy, train the skill, save weights + manifest entry; return the entry.
    `episode_length`: random-policy steps per episode (default: 100 for robosuite, whole games for Atari)."""
    if skill_name not in SKILL_NAMES:
        raise UserError(f"unknown skill {skill_name!r}; choose one of: {', '.join(SKILL_NAMES)}")
    task = load_task(task_name)
    cameras = check_cameras(task, cameras or task.cameras)
    from wsa_robot.pretrain.checkpoint import save_model
    from wsa_robot.pretrain.collect import collect_frames, labels, split_by_episode
    from wsa_robot.pretrain.skills import SKILLS, skill_output_shape
    from wsa_robot.pretrain.trainer import train_skill

    skill = SKILLS[skill_name]
    missing = [label for label in skill.needs if label not in labels(task)]
    if missing:
        usable = [s.name for s in SKILLS.values() if all(label in labels(task) for label in s.needs)]
        raise UserError(f"skill {skill.name} learns from {missing[0]} labels, which task {task.name} "
                        f"({task.backend}) does not render; choose one of: {', '.join(usable)}")
    frames = collect_frames(task, cameras, frames_per_camera, episode_length=episode_length, seed=seed,
                            cache=cache)
    train_idx, val_idx = split_by_episode(frames.episode)
    if not len(val_idx):
        raise UserError(f"the {len(frames)} frames of {task.name} hold a single episode, none is left to "
                        "validate on; collect more frames (--frames)")
    model, metrics = train_skill(skill, frames, train_idx, val_idx, steps=steps, seed=seed, batch_size=batch_size)
    suffix = task.name.lower().replace("/", "_")
    key = f"{skill.encoder}_{suffix}"
    weights = (out_dir or data_dir("assets")) / f"{key}.pt"
    save_model(model, weights)
    entry = {
        "encoder": skill.encoder if task.name == "Lift" else key, "skill": skill.name, "task": task.name,
        "cameras": cameras, "image_size": model.config["image_size"], "in_channels": frames.channels,
        "output_shape": list(skill_output_shape(model)),
        "frames": int(len(frames)), "train_frames": int(len(train_idx)), "val_frames": int(len(val_idx)),
        "steps": steps, "batch_size": batch_size, "metric": skill.metric,
        **{k: round(v, 6) if isinstance(v, float) else v for k, v in metrics.items()},
        "seed": seed, "created": time.strftime("%Y-%m-%d"),
        "provenance": "random-policy frames, `wsa-robot pretrain`",
    }
    return add_to_manifest(key, weights, entry, out_dir)
