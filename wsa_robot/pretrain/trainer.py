"""One training loop for every skill: Adam on random train batches, then the skill's metric on held-out episodes."""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Any

import numpy as np
import torch
from rich.progress import Progress
from torch import nn

from wsa_robot.pretrain.frames import Frames
from wsa_robot.pretrain.skills import Skill, class_weights


def train_skill(skill: Skill, frames: Frames, train_idx: np.ndarray, val_idx: np.ndarray, steps: int,
                batch_size: int = 32, seed: int = 0, device: str = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Adam at the skill's learning rate on random batches; returns the model (on the CPU) and its metrics."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    frames = dataclasses.replace(frames, device=device)
    head = {"head_dim": skill.head_dim(frames)} if skill.head_dim else {}
    model = skill.build(frames.images.shape[1], frames.channels, **head).to(device)
    loss_fn = skill.loss
    if skill.name == "segmentation":
        loss_fn = functools.partial(loss_fn, weights=class_weights(frames, train_idx))
    optim = torch.optim.Adam(model.parameters(), lr=skill.lr)
    start = time.time()
    with Progress() as bar:
        job = bar.add_task(f"training {skill.name}", total=steps)
        for step in range(steps):
            loss = loss_fn(model, frames, rng.choice(train_idx, batch_size, replace=False), rng)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            if step % 20 == 0 or step == steps - 1:
                bar.update(job, completed=step + 1, description=f"training {skill.name}  loss {loss.item():.4f}")
    model.eval()
    with torch.inference_mode():
        metric = skill.evaluate(model, frames, val_idx)
        more = {name: fn(model, frames, val_idx) for name, fn in (skill.more_metrics or {}).items()}
    return model.cpu(), {skill.metric: metric, **more, "final_train_loss": float(loss.item()),
                   "train_seconds": round(time.time() - start, 1)}
