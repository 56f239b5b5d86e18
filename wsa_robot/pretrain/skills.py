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
from wsa_robot.encoders.vos import VOS
from wsa_robot.fusion.augment import random_shift
from wsa_robot.pretrain.frames import Frames

MAX_DEPTH = 3.0          # metres; depth targets are clipped here (the table top is within 2 m of every camera)
N_CLASSES = 5            # wsa_robot.envs.spaces.SEGMENT_CLASSES
POSITIVE_WITHIN = 3      # time-contrastive: a positive is the same camera 1..3 steps later
TRANSPORT_WITHIN = 10    # keypoints: the target frame is the same camera 1..10 steps from the source
TEMPERATURE = 0.1
INVARIANCE = 1.0         # scene invariance: the weight of the twins' relative shift beside the state regression


def images(frames: Frames, idx: np.ndarray, array: np.ndarray | None = None) -> torch.Tensor:
    """The frames `idx` as float [B, C, H, W] in [0, 1]; `array`: another uint8 array of the same layout
    (the twins) instead of the images."""
    x = torch.from_numpy((frames.images if array is None else array)[idx]).to(frames.device, non_blocking=True)
    return x.permute(0, 3, 1, 2).float().div_(255.0)


def _maps(frames: Frames, array: np.ndarray, idx: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array[idx]).to(frames.device).permute(0, 3, 1, 2)


# --- autoencoder: reconstruct the image (every channel: the whole frame stack on Atari) --------------------------------------------------------------------
def ae_loss(model: ConvAutoencoder, frames: Frames, idx: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    x = images(frames, idx)
    return F.mse_loss(torch.sigmoid(model(x)), x)


def in_batches(metric: Callable[[np.ndarray], float], idx: np.ndarray, batch: int = 256) -> float:
    """The mean of a per-batch mean metric over all of `idx`, weighted by batch size (bounded memory)."""
    return sum(metric(idx[i:i + batch]) * len(idx[i:i + batch]) for i in range(0, len(idx), batch)) / len(idx)


def ae_metric(model: ConvAutoencoder, frames: Frames, idx: np.ndarray) -> float:
    def mse(part: np.ndarray) -> float:
        x = images(frames, part)
        return F.mse_loss(torch.sigmoid(model(x)), x).item()
    return in_batches(mse, idx)


# --- depth from RGB, supervised by the simulator's depth render ------------------------------------------
def _depth_target(frames: Frames, idx: np.ndarray) -> torch.Tensor:
    return _maps(frames, frames.depth, idx).float().clamp(1e-3, MAX_DEPTH)


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
    target = _maps(frames, frames.seg, idx)[:, 0].long()
    return F.cross_entropy(model(images(frames, idx)), target,
                           weight=None if weights is None else weights.to(target.device))


def seg_miou(model: ConvAutoencoder, frames: Frames, idx: np.ndarray) -> float:
    """Mean intersection over union over the classes present in the held-out labels (higher is better)."""
    target = _maps(frames, frames.seg, idx)[:, 0].long()
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
    return F.cross_entropy(logits, torch.arange(len(idx), device=logits.device))


def tcn_accuracy(model: ConvAutoencoder, frames: Frames, idx: np.ndarray, batch: int = 64) -> float:
    """How often an anchor's nearest of `batch` candidates is its own positive (chance: 1/batch).
    Candidates are drawn at random from the held-out episodes, as in training; consecutive frames would
    make every candidate a near-duplicate of the positive."""
    rng = np.random.default_rng(0)
    idx = rng.permutation(idx)
    hits, total = 0, 0
    for i in range(0, len(idx) - batch + 1, batch):
        logits = _contrastive_logits(model, frames, idx[i:i + batch], rng)
        hits += (logits.argmax(1) == torch.arange(batch, device=logits.device)).sum().item()
        total += batch
    return hits / max(total, 1)


# --- keypoints (Transporter): rebuild a later frame from an earlier one by moving keypoint features ------
def kp_loss(model: Transporter, frames: Frames, idx: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    source, target = images(frames, idx), images(frames, positives(frames, idx, rng, TRANSPORT_WITHIN))
    return F.mse_loss(model(source, target), target)


def kp_metric(model: Transporter, frames: Frames, idx: np.ndarray) -> float:
    """Reconstruction MSE of held-out targets (lower is better)."""
    rng = np.random.default_rng(0)
    return in_batches(lambda part: kp_loss(model, frames, part, rng).item(), idx)


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
        hits += (gl.mean(0).argmax(1) == torch.arange(batch, device=gl.device)).sum().item()
        total += batch
    return hits / max(total, 1)


# --- video object segmentation (Goel et al. 2018): masks and translations that rebuild frame t from t-1 ------
MASK_SPARSITY = 1e-4  # a small push towards empty masks, so static background is left to no mask
VOS_BLURS = (1, 5, 9)  # box-blur widths the rebuilt frame is compared at


def _stack_pairs(frames: Frames, idx: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    """[B, 2, S, S]: two consecutive frames of each stack, at a random place in it (every pair is a real step)."""
    x = images(frames, idx)
    start = torch.as_tensor(rng.integers(0, x.shape[1] - 1, len(idx)), device=x.device)
    rows = torch.arange(len(idx), device=x.device)
    return torch.stack([x[rows, start], x[rows, start + 1]], dim=1)


def vos_loss(model: VOS, frames: Frames, idx: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    """L1 of the rebuilt frame at several blurs: a sharp 2-pixel ball that moved 6 pixels gives a bilinear warp
    no gradient, its blurred copy does (the coarse-to-fine of optical flow, in one loss)."""
    pair = _stack_pairs(frames, idx, rng)
    loss = 0.0
    for width in VOS_BLURS:
        blurred = pair if width == 1 else F.avg_pool2d(pair, width, stride=1, padding=width // 2)
        warped, masks = model.rebuild(pair, blurred[:, :1])
        loss = loss + F.l1_loss(warped, blurred[:, 1:])
    return loss + MASK_SPARSITY * masks.mean()


def vos_motion_explained(model: VOS, frames: Frames, idx: np.ndarray, batch: int = 64) -> float:
    """1 - |rebuilt - frame t| / |frame t-1 - frame t| on held-out pairs (the newest two frames of each stack):
    the fraction of the change between frames that the masks and their motion explain (0: none, 1: all)."""
    err, change = 0.0, 0.0
    for i in range(0, len(idx), batch):
        x = images(frames, idx[i:i + batch])
        pair = x[:, -2:]
        warped, _ = model.rebuild(pair)
        err += (warped - pair[:, 1:]).abs().sum().item()
        change += (pair[:, :1] - pair[:, 1:]).abs().sum().item()
    return 1.0 - err / max(change, 1e-8)


# --- scene state: the simulator's object state and the robot's proprio regressed from RGB (PRIVILEGED labels, at
# pretraining only), from frames shifted a few pixels; under a VisualMix (envs/visual_mix.py) the pixels change
# from episode to episode and the target does not, so the embedding learns to ignore what the variations change
def _states(frames: Frames) -> np.ndarray:
    if frames.state is None:
        raise ValueError("these frames have no state labels; collect them again from a task whose backend gives them")
    return frames.state


def _state_target(frames: Frames, idx: np.ndarray) -> torch.Tensor:
    states = _states(frames)
    mean, std = states.mean(0), states.std(0) + 1e-6
    return torch.from_numpy((states[idx] - mean) / std).to(frames.device)


def scene_state_loss(model: ConvAutoencoder, frames: Frames, idx: np.ndarray, rng: np.random.Generator
                     ) -> torch.Tensor:
    return F.mse_loss(model.head(model.encode(random_shift(images(frames, idx)))), _state_target(frames, idx))


def scene_state_r2(model: ConvAutoencoder, frames: Frames, idx: np.ndarray, batch: int = 256) -> float:
    """1 - the held-out squared error of the state standardised over the whole collection, averaged over its
    dimensions: 1 exact, 0 no better than the collection's mean. (Against the held-out episodes' own variance
    a dimension that hardly moves in them, a cube nobody touched, would dominate the mean.)"""
    target = _state_target(frames, idx)
    pred = torch.cat([model.head(model.encode(images(frames, idx[i:i + batch]))) for i in range(0, len(idx), batch)])
    return float(1 - ((pred - target) ** 2).mean())


# --- scene invariance: the state regressed from two views of one step (the scene under two draws of the visual
# mix, pretrain/collect.py twins), and the views' embeddings pulled together, relative to how far apart the
# embeddings of different states lie: the shift the variation causes, the quantity experiments/encoder_shift.py
# measures, minimised directly instead of hoped for
def _twins(frames: Frames) -> np.ndarray:
    if frames.twin is None:
        raise ValueError("these frames have no twin views; collect them again with twins (--vary ...)")
    return frames.twin


def relative_shift(z: torch.Tensor, twin: torch.Tensor, camera: np.ndarray) -> torch.Tensor:
    """Per camera, mean |z - twin|^2 / mean |z_i - z_j|^2 over pairs of its samples (2 x the summed variance),
    averaged over the cameras: unchanged by the embedding's scale, so it cannot be met by shrinking the
    embedding, and the spread is between states, not between cameras (which lie far apart)."""
    ratios = []
    for c in np.unique(camera):
        rows = torch.from_numpy(np.flatnonzero(camera == c)).to(z.device)
        if len(rows) < 2:
            continue
        zc, tc = z[rows], twin[rows]
        ratios.append((zc - tc).pow(2).sum(1).mean() / (2 * zc.var(0, unbiased=False).sum()).clamp_min(1e-8))
    return torch.stack(ratios).mean()


def scene_invariant_loss(model: ConvAutoencoder, frames: Frames, idx: np.ndarray, rng: np.random.Generator
                         ) -> torch.Tensor:
    z = model.encode(random_shift(images(frames, idx)))
    twin = model.encode(random_shift(images(frames, idx, _twins(frames))))
    target = _state_target(frames, idx)
    regress = (F.mse_loss(model.head(z), target) + F.mse_loss(model.head(twin), target)) / 2
    return regress + INVARIANCE * relative_shift(z, twin, idx % frames.n_cameras)


def twin_shift(model: ConvAutoencoder, frames: Frames, idx: np.ndarray, batch: int = 256) -> float:
    """mean |z - twin| / mean |z_i - z_j| (norms, as experiments/encoder_shift.py) on held-out frames, per
    camera (pairs i, j of one camera within a batch of consecutive frames), averaged over the cameras: 0
    invariant, 1 a change of visuals moves the embedding as far as another state does."""
    twins, ratios = _twins(frames), []
    for c in range(frames.n_cameras):
        mine = idx[idx % frames.n_cameras == c]
        moved, apart = [], []
        for i in range(0, len(mine), batch):
            part = mine[i:i + batch]
            z, t = model.encode(images(frames, part)), model.encode(images(frames, part, twins))
            moved.append((z - t).norm(dim=1).mean().item())
            if len(part) > 1:
                apart.append(torch.pdist(z).mean().item())
        ratios.append(np.mean(moved) / max(np.mean(apart), 1e-8))
    return float(np.mean(ratios))


def state_width(frames: Frames) -> int:
    return _states(frames).shape[1]


@dataclass(frozen=True)
class Skill:
    name: str
    encoder: str             # the encoder name it registers for Lift (other tasks: `<encoder>_<task>`)
    build: Callable[[int, int], nn.Module]  # (image size, input channels) -> a fresh model
    loss: Callable[..., torch.Tensor]
    metric: str
    evaluate: Callable[[nn.Module, Frames, np.ndarray], float]
    higher_is_better: bool
    needs: tuple[str, ...] = ()  # what its frames must come with (wsa_robot.pretrain.collect.labels)
    lr: float = 1e-3             # Adam's learning rate
    head_dim: Callable[[Frames], int] | None = None  # the width of the model's head, read from the frames
    more_metrics: dict[str, Callable[[nn.Module, Frames, np.ndarray], float]] | None = None  # reported beside


def _conv(out_channels: int | None) -> Callable[..., nn.Module]:
    """A ConvAutoencoder factory; out_channels None: as many as it reads (reconstruction)."""
    return lambda size, c, **head: ConvAutoencoder(image_size=size, in_channels=c,
                                                   out_channels=c if out_channels is None else out_channels, **head)


SKILLS: dict[str, Skill] = {s.name: s for s in [
    Skill("autoencoder", "ae", _conv(None), ae_loss, "val_mse", ae_metric, False),
    Skill("depth", "depth_rgb", _conv(1), depth_loss, "val_abs_rel", depth_abs_rel, False, ("depth",)),
    Skill("segmentation", "seg", _conv(N_CLASSES), seg_loss, "val_miou", seg_miou, True, ("segmentation",)),
    Skill("contrastive", "tcn", _conv(0), tcn_loss, "val_accuracy", tcn_accuracy, True),
    Skill("keypoints", "kp", lambda size, c: Transporter(image_size=size, in_channels=c), kp_loss, "val_mse",
          kp_metric, False),
    Skill("stdim", "stdim", lambda size, c: STDIM(image_size=size, in_channels=c), stdim_loss, "val_accuracy",
          stdim_accuracy, True),
    # the reference trains VOS with Adam 1e-4 over 1M frames; 1e-3 (stable: the motion head starts at rest)
    # fits the project's budgets of a few thousand steps
    Skill("vos", "vos", lambda size, c: VOS(image_size=size, in_channels=c), vos_loss, "val_motion_explained",
          vos_motion_explained, True, ("stack",)),
    Skill("scene_state", "scene", _conv(0), scene_state_loss, "val_r2", scene_state_r2, True, ("state",),
          head_dim=state_width),
    Skill("scene_invariant", "scene_inv", _conv(0), scene_invariant_loss, "val_r2", scene_state_r2, True,
          ("state", "twin"), head_dim=state_width, more_metrics={"val_twin_shift": twin_shift}),
]}


def skill_output_shape(model: nn.Module) -> tuple[int, ...]:
    """The shape of the frozen token the trained model gives: its latent, 2 coordinates per keypoint, or masks."""
    if isinstance(model, Transporter):
        return (2 * model.config["n_keypoints"],)
    if isinstance(model, VOS):
        return (model.config["n_masks"], model.grid, model.grid)
    return (model.config["latent_dim"],)
