"""`wsa-robot pretrain --skill autoencoder`: train the conv autoencoder on task frames, on CPU, in minutes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from rich.progress import Progress

from wsa_robot.atomic import atomic_path
from wsa_robot.encoders.autoencoder import ConvAutoencoder

CHECKPOINT_FORMAT = "wsa-robot/autoencoder/v1"


def _batch(images: np.ndarray, idx: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images[idx]).permute(0, 3, 1, 2).float().div_(255.0)


def validation_mse(model: ConvAutoencoder, images: np.ndarray, idx: np.ndarray, batch: int = 256) -> float:
    model.eval()
    total = 0.0
    with torch.inference_mode():
        for i in range(0, len(idx), batch):
            x = _batch(images, idx[i:i + batch])
            total += F.mse_loss(model(x), x, reduction="sum").item()
    model.train()
    return total / (len(idx) * images[0].size)


def train_autoencoder(images: np.ndarray, train_idx: np.ndarray, val_idx: np.ndarray, steps: int,
                      batch_size: int = 32, lr: float = 1e-3, seed: int = 0,
                      latent_dim: int = 128) -> tuple[ConvAutoencoder, dict[str, Any]]:
    """Adam + MSE as in the reference (batch 32, lr 1e-3); returns the model and its held-out metrics."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = ConvAutoencoder(latent_dim=latent_dim, image_size=images.shape[1])
    optim = torch.optim.Adam(model.parameters(), lr=lr)
    start = time.time()
    with Progress() as bar:
        job = bar.add_task("training autoencoder", total=steps)
        for step in range(steps):
            x = _batch(images, rng.choice(train_idx, batch_size))
            loss = F.mse_loss(model(x), x)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            bar.update(job, advance=1, description=f"training autoencoder  loss {loss.item():.4f}")
    metrics = {"val_mse": validation_mse(model, images, val_idx), "train_seconds": round(time.time() - start, 1)}
    return model.eval(), metrics


def save_autoencoder(model: ConvAutoencoder, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save({"format": CHECKPOINT_FORMAT, "config": model.config, "state_dict": model.state_dict()}, tmp)


def load_autoencoder(path: Path) -> ConvAutoencoder:
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint")
    model = ConvAutoencoder(**blob["config"])
    model.load_state_dict(blob["state_dict"])
    return model.eval()
