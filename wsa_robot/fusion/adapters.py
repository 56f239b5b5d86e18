"""Per-token adapters A_k: a vector token -> Linear to d; a spatial map -> small conv, then Linear to d.

Each ends in LayerNorm + ReLU (the reference has ReLU only): frozen encoders differ in output scale by orders
of magnitude, and the shared scorer can only compare tokens that live on one scale.
"""

from __future__ import annotations

import torch
from gymnasium import spaces
from torch import nn

from wsa_robot.core.keys import MASK_KEY, SEPARATOR


def module_key(token: str) -> str:
    """ModuleDict keys may not contain '.'; '@' is kept readable as '__'."""
    return token.replace(SEPARATOR, "__").replace(".", "_")


def flat_dim(space: spaces.Box) -> int:
    return int(torch.tensor(space.shape).prod())


def adapter(space: spaces.Box, dim: int) -> nn.Module:
    """Linear for a vector (D,), conv then Linear for a spatial map (C, h, w)."""
    if len(space.shape) == 3:
        c, h, w = space.shape
        stride = 2 if min(h, w) >= 8 else 1
        conv = nn.Sequential(nn.Conv2d(c, 32, 3, stride=stride, padding=1), nn.ReLU(), nn.Flatten())
        with torch.no_grad():
            n = conv(torch.zeros(1, c, h, w)).shape[1]
        return nn.Sequential(conv, projection(n, dim))
    return nn.Sequential(nn.Flatten(), projection(flat_dim(space), dim))


def projection(n_in: int, dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, dim), nn.LayerNorm(dim), nn.ReLU())


class TokenAdapters(nn.Module):
    """One adapter per token, keyed by the token's name, so tokens can be reordered, added or removed."""

    def __init__(self, observation_space: spaces.Dict, token_keys: list[str], dim: int) -> None:
        super().__init__()
        self.token_keys, self.dim = list(token_keys), dim
        self.adapters = nn.ModuleDict({module_key(k): adapter(observation_space[k], dim) for k in token_keys})

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """[B, K, d] adapted tokens in token_keys order."""
        return torch.stack([self.adapters[module_key(k)](obs[k].float()) for k in self.token_keys], dim=1)


def token_mask(obs: dict[str, torch.Tensor], k: int, batch: int, device: torch.device) -> torch.Tensor:
    """The boolean [B, K] presence mask from the observation, all present when the env gives none."""
    mask = obs.get(MASK_KEY)
    if mask is None:
        return torch.ones(batch, k, dtype=torch.bool, device=device)
    return mask > 0.5
