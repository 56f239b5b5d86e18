"""The skills the project pretrains: what each predicts, its training loss and its held-out metric.

Every skill trains the same conv encoder (wsa_robot/encoders/autoencoder.py); only the head, the target and
the loss differ, so their frozen encoders are interchangeable tokens for WSA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from torch import nn

from wsa_robot.encoders.autoencoder import ConvAutoencoder
from wsa_robot.encoders.stdim import STDIM
from wsa_robot.encoders.transporter import Transporter
from wsa_robot.pretrain.collect import Frames

MAX_DEPTH = 3.0          # metres; depth targets are clipped here (the table top is within 2 m of every camera)
N_CLASSES = 5            # wsa_robot.envs.spaces.SEGMENT_CLASSES
POSITIVE_WITHIN = 3      # time-contrastive: a positive is the same camera 1..3 steps later
TRANSPORT_WITHIN = 10    # keypoints: the target frame is the same camera 1..10 steps from the source
TEMPERATURE = 0.1


def images(frames: Frames, idx: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frames.images[idx]).permute(0, 3, 1, 2).float().div_(255.0)


def _maps(array: np.ndarray, idx: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array[idx]).permute(0, 3, 1, 2)


# --- autoencoder: reconstruct the image (every channel: the whole frame stack on Atari) --------------------------------------------------------------------
def ae_loss(model: ConvAutoencoder, frames: Frames, idx: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    x = images(frames, idx)
    return F.mse_loss(torch.sigmoid(model(x)), x)


def ae_metric(model: ConvAutoencoder, frames: Frames, idx: np.ndarray) -> float:
    x = images(frames, idx)
    return F.mse_loss(torch.sigmoid(model(x)), x).item()


# --- depth from RGB, supervised by the simulator's depth render ------------------------------------------
def _depth_target(frames: Frames, idx: np.ndarray) -> torch.Tensor:
    return _maps(frames.depth, idx).float().clamp(1e-3, MAX_DEPTH)


def depth_loss(model: ConvAutoencoder, frames: Frames, idx: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    return F.l1_loss(torch.sigmoid(model(images(frames, idx))) * MAX_DEPTH, _depth_target(frames, idx))


def depth_abs_rel(model: ConvAutoencoder, frames: Frames, idx: np.ndarray) -> float:
    """Mean |predicted - true| / true, the usual monocular-depth metric (lower is better)."""
    gt = _depth_target(frames, idx)
    pred = torch.sigmoid(model(images(frames, idx))) * MAX_DEPTH
    return ((pred - gt).abs() / gt).mean().item()


# --- segmentation, supervised by the simulator's segmentation render --------------------------------------
def class_weights(frames: Frames, idx: np.ndarray) -> torch.Tensor:
    """1/sqrt(frequency), so the small cube and gripper are not drowned by the table."""
    counts = np.bincount(frames.seg[idx].ravel(), minlength=N_CLASSES).astype(np.float64) + 1.0
    w = 1.0 / np.sqrt(counts / counts.sum())
    return torch.tensor(w / w.mean(), dtype=torch.float32)


def seg_loss(model: ConvAutoencoder, frames: Frames, idx: np.ndarray, rng: np.random.Generator,
             weights: torch.Tensor | None = None) -> torch.Tensor:
    target = _maps(frames.seg, idx)[:, 0].long()
    return F.cross_entropy(model(images(frames, idx)), target, weight=weights)


def seg_miou(model: ConvAutoencoder, frames: Frames, idx: np.ndarray) -> float:
    """Mean intersection over union over the classes present in the held-out labels (higher is better)."""
    target = _maps(frames.seg, idx)[:, 0].long()
    pred = model(images(frames, idx)).argmax(1)
    ious = []
    for c in range(N_CLASSES):
        union = ((pred == c) | (target == c)).sum().item()
        if (target == c).any():
            ious.append(((pred == c) & (target == c)).sum().item() / union)
    return float(np.mean(ious))


# --- time-contrastive (R3M's objective on the project's own rollouts) -------------------------------------
def positives(frames: Frames, idx: np.ndarray, rng: np.random.Generator, within: int = POSITIVE_WITHIN) -> np.ndarray:
    """For each anchor, the same camera 1..`within` steps later (earlier at an episode's end)."""
    k = rng.integers(1, within + 1, len(idx)) * frames.n_cameras
    later = idx + k
    inside = later < len(frames)
    same = inside & (frames.episode[np.where(inside, later, idx)] == frames.episode[idx])
    return np.where(same, later, idx - k)  # episodes are longer than 2 * `within` steps


def _contrastive_logits(model: ConvAutoencoder, frames: Frames, idx: np.ndarray,
                        rng: np.random.Generator) -> torch.Tensor:
    z = F.normalize(model.encode(images(frames, np.concatenate([idx, positives(frames, idx, rng)]))), dim=1)
    anchors, pos = z[: len(idx)], z[len(idx):]
    return anchors @ pos.T / TEMPERATURE  # [B, B]: each anchor against every positive in the batch


def tcn_loss(model: ConvAutoencoder, frames: Frames, idx: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    logits = _contrastive_logits(model, frames, idx, rng)
    return F.cross_entropy(logits, torch.arange(len(idx)))


def tcn_accuracy(model: ConvAutoencoder, frames: Frames, idx: np.ndarray, batch: int = 64) -> float:
    """How often an anchor's nearest of `batch` candidates is its own positive (chance: 1/batch).
    Candidates are drawn at random from the held-out episodes, as in training; consecutive frames would
    make every candidate a near-duplicate of the positive."""
    rng = np.random.default_rng(0)
    idx = rng.permutation(idx)
    hits, total = 0, 0
    for i in range(0, len(idx) - batch + 1, batch):
        logits = _contrastive_logits(model, frames, idx[i:i + batch], rng)
        hits += (logits.argmax(1) == torch.arange(batch)).sum().item()
        total += batch
    return hits / max(total, 1)


# --- keypoints (Transporter): rebuild a later frame from an earlier one by moving keypoint features ------
def kp_loss(model: Transporter, frames: Frames, idx: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    source, target = images(frames, idx), images(frames, positives(frames, idx, rng, TRANSPORT_WITHIN))
    return F.mse_loss(model(source, target), target)


def kp_metric(model: Transporter, frames: Frames, idx: np.ndarray) -> float:
    """Reconstruction MSE of held-out targets (lower is better)."""
    return kp_loss(model, frames, idx, np.random.default_rng(0)).item()


# --- ST-DIM (Anand et al. 2019): InfoNCE between consecutive frames, global-local and local-local --------
def _next_pair(frames: Frames, idx: np.ndarray, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames t and t+1 of the same episode (t-1 at an episode's end)."""
    return images(frames, idx), images(frames, positives(frames, idx, rng, within=1))


def stdim_loss(model: STDIM, frames: Frames, idx: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    return model.loss(*_next_pair(frames, idx, rng))


def stdim_accuracy(model: STDIM, frames: Frames, idx: np.ndarray, batch: int = 32) -> float:
    """How often frame t+1's global code, among `batch` held-out frames drawn at random, scores highest
    (global-local score averaged over positions) against frame t's local features (chance: 1/batch)."""
    rng = np.random.default_rng(0)
    idx = rng.permutation(idx)
    batch = min(batch, len(idx))
    hits, total = 0, 0
    for i in range(0, len(idx) - batch + 1, batch):
        gl, _ = model.scores(*_next_pair(frames, idx[i:i + batch], rng))
        hits += (gl.mean(0).argmax(1) == torch.arange(batch)).sum().item()
        total += batch
    return hits / max(total, 1)


@dataclass(frozen=True)
class Skill:
    name: str
    encoder: str             # the encoder name it registers for Lift (other tasks: `<encoder>_<task>`)
    build: Callable[[int, int], nn.Module]  # (image size, input channels) -> a fresh model
    loss: Callable[..., torch.Tensor]
    metric: str
    evaluate: Callable[[nn.Module, Frames, np.ndarray], float]
    higher_is_better: bool
    needs: tuple[str, ...] = ()  # per-pixel labels it learns from (wsa_robot.pretrain.collect.labels)


def _conv(out_channels: int | None) -> Callable[[int, int], nn.Module]:
    """A ConvAutoencoder factory; out_channels None: as many as it reads (reconstruction)."""
    return lambda size, c: ConvAutoencoder(image_size=size, in_channels=c,
                                           out_channels=c if out_channels is None else out_channels)


SKILLS: dict[str, Skill] = {s.name: s for s in [
    Skill("autoencoder", "ae", _conv(None), ae_loss, "val_mse", ae_metric, False),
    Skill("depth", "depth_rgb", _conv(1), depth_loss, "val_abs_rel", depth_abs_rel, False, ("depth",)),
    Skill("segmentation", "seg", _conv(N_CLASSES), seg_loss, "val_miou", seg_miou, True, ("segmentation",)),
    Skill("contrastive", "tcn", _conv(0), tcn_loss, "val_accuracy", tcn_accuracy, True),
    Skill("keypoints", "kp", lambda size, c: Transporter(image_size=size, in_channels=c), kp_loss, "val_mse",
          kp_metric, False),
    Skill("stdim", "stdim", lambda size, c: STDIM(image_size=size, in_channels=c), stdim_loss, "val_accuracy",
          stdim_accuracy, True),
]}


def skill_output_shape(model: nn.Module) -> tuple[int, ...]:
    """The shape of the frozen token the trained model gives: its latent, or 2 coordinates per keypoint."""
    if isinstance(model, Transporter):
        return (2 * model.config["n_keypoints"],)
    return (model.config["latent_dim"],)
