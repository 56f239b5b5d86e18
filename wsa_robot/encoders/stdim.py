"""ST-DIM (Anand et al. 2019, "Unsupervised State Representation Learning in Atari"): a NatureCNN whose
512-d global code is learned by InfoNCE between consecutive frames, with bilinear scores:

- global-local: the global code of frame t+1 against every local feature (one per position of a conv
  feature map) of frame t; the positive is the same pair of frames, the negatives the other frames of the batch;
- local-local: each local feature of frame t+1 against the local feature at the same position of frame t.

Both losses are averaged over positions and added (the paper's L_GL + L_LL). The local features are the
NatureCNN's second conv layer (64 channels, 9x9 on an 84x84 frame), the layer before the last conv that the
paper's 84x84 ("downsampled") network uses.

Input: the 84x84 grey frames of the agent's own observation (wsa_robot/envs/atari/env.py), read as they are, H x W;
the reference instead resized frames to (160, 210), transposed relative to the 210x160 screen. The paper
encodes single frames (no stack): on an Atari 4-frame stack the network reads the newest frame only (t and
t+1 then differ by one agent step), so the frozen encoder takes the same stack every Atari encoder takes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from wsa_robot.encoders.base import FrozenEncoder

STACK = 4  # an Atari frame stack: ST-DIM reads its newest frame


def _frames_read(in_channels: int) -> int:
    return 1 if in_channels == STACK else in_channels


class STDIM(nn.Module):
    """NatureCNN (32 8x8/4, 64 4x4/2, 64 3x3/1, linear to `latent_dim`) plus the two bilinear score heads."""

    def __init__(self, latent_dim: int = 512, image_size: int = 84, in_channels: int = STACK) -> None:
        super().__init__()
        self.config = {"latent_dim": latent_dim, "image_size": image_size, "in_channels": in_channels}
        self.read = _frames_read(in_channels)
        self.local = nn.Sequential(nn.Conv2d(self.read, 32, 8, stride=4), nn.ReLU(),
                                   nn.Conv2d(32, 64, 4, stride=2), nn.ReLU())
        self.top = nn.Sequential(nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(), nn.Flatten())
        with torch.no_grad():
            flat = self.top(self.local(torch.zeros(1, self.read, image_size, image_size))).shape[1]
        self.to_latent = nn.Linear(flat, latent_dim)
        self.global_local = nn.Linear(latent_dim, 64, bias=False)  # score = local^T W global
        self.local_local = nn.Linear(64, 64, bias=False)           # score = local_t+1^T W local_t

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x float [B, C, S, S] in [0, 1] -> (global [B, D], local [B, h*w, 64])."""
        local = self.local(x[:, -self.read:])
        z = self.to_latent(self.top(local))
        return z, local.flatten(2).transpose(1, 2)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)[0]

    def scores(self, x_t: torch.Tensor, x_next: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits [P, B, B] for every position P: global-local (row i: frame i's locals at t, column j: frame
        j's global at t+1) and local-local (frame i's local at t against frame j's local at t+1)."""
        _, local_t = self.features(x_t)
        g_next, local_next = self.features(x_next)
        lt = local_t.transpose(0, 1)        # [P, B, 64]
        ln = local_next.transpose(0, 1)     # [P, B, 64]
        gl = lt @ self.global_local(g_next).T.unsqueeze(0)          # [P, B, B]
        ll = lt @ self.local_local(ln).transpose(1, 2)              # [P, B, B]
        return gl, ll

    def loss(self, x_t: torch.Tensor, x_next: torch.Tensor) -> torch.Tensor:
        gl, ll = self.scores(x_t, x_next)
        p, b, _ = gl.shape
        target = torch.arange(b, device=gl.device).repeat(p)
        return F.cross_entropy(gl.reshape(p * b, b), target) + F.cross_entropy(ll.reshape(p * b, b), target)


class STDIMEncoder(FrozenEncoder):
    """The NatureCNN of a trained ST-DIM: its 512-d global code per image (the newest frame of an Atari stack)."""

    def __init__(self, model: STDIM, name: str = "stdim") -> None:
        super().__init__()
        self.name = name
        self.model = model
        self.input_size = model.config["image_size"]
        self.in_channels = model.config["in_channels"]
        self.output_shape = (model.config["latent_dim"],)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.encode(x)
