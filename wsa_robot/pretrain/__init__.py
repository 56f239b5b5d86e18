"""`wsa-robot pretrain`: train the project's own encoders from simulator frames and ship them in assets/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from wsa_robot.assets import add_to_manifest
from wsa_robot.errors import UserError
from wsa_robot.resources import data_dir
from wsa_robot.tasks import load_task

SKILLS = ("autoencoder",)


def pretrain(task_name: str, skill: str, frames_per_camera: int = 3000, steps: int = 3000,
             cameras: list[str] | None = None, out_dir: Path | None = None, seed: int = 0) -> dict[str, Any]:
    """Collect frames with a random policy, train the skill, save weights + manifest entry; return the entry."""
    if skill not in SKILLS:
        raise UserError(f"unknown skill {skill!r}; choose one of: {', '.join(SKILLS)}")
    from wsa_robot.pretrain.autoencoder import save_autoencoder, train_autoencoder
    from wsa_robot.pretrain.collect import collect_frames, split_by_episode

    task = load_task(task_name)
    cameras = cameras or task.cameras
    images, episodes = collect_frames(task, cameras, frames_per_camera, seed=seed)
    train_idx, val_idx = split_by_episode(episodes)
    model, metrics = train_autoencoder(images, train_idx, val_idx, steps=steps, seed=seed)
    out_dir = out_dir or data_dir("assets")
    key = f"ae_{task.name.lower().replace('/', '_')}"
    weights = out_dir / f"{key}.pt"
    save_autoencoder(model, weights)
    entry = {
        "encoder": "ae" if task.name == "Lift" else key, "skill": skill, "task": task.name, "cameras": cameras,
        "image_size": model.config["image_size"], "output_shape": [model.config["latent_dim"]],
        "frames": int(len(images)), "train_frames": int(len(train_idx)), "val_frames": int(len(val_idx)),
        "steps": steps, "batch_size": 32, "metric": "val_mse", "val_mse": round(metrics["val_mse"], 6),
        "train_seconds": metrics["train_seconds"], "seed": seed,
        "created": time.strftime("%Y-%m-%d"), "provenance": "random-policy frames, `wsa-robot pretrain`",
    }
    return add_to_manifest(key, weights, entry, out_dir)
