"""The paper's baselines behind the same interface: LIN (concat), FIX (adapt + concat), CNN, E2E (pixels)."""

from __future__ import annotations

import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, NatureCNN
from torch import nn

from wsa_robot.fusion.adapters import TokenAdapters, flat_dim, token_mask
from wsa_robot.fusion.augment import augment


def _with_context(token_keys: list[str], context_key: str | None) -> list[str]:
    return list(token_keys) + ([context_key] if context_key and context_key not in token_keys else [])


class LinExtractor(BaseFeaturesExtractor):
    """LIN: every token flattened and concatenated, masked tokens zeroed; the context too when given a
    `context_key` (`lin_context: true`, and runs saved before that key: extractor_kwargs decides)."""

    def __init__(self, observation_space: spaces.Dict, token_keys: list[str], context_key: str | None = None,
                 dim: int = 256) -> None:
        keys = _with_context(token_keys, context_key)
        super().__init__(observation_space, features_dim=sum(flat_dim(observation_space[k]) for k in keys))
        self.token_keys, self.keys = list(token_keys), keys

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        b = obs[self.keys[0]].shape[0]
        mask = token_mask(obs, len(self.token_keys), b, obs[self.keys[0]].device).float()
        parts = [obs[k].float().flatten(1) * (mask[:, i:i + 1] if i < len(self.token_keys) else 1.0)
                 for i, k in enumerate(self.keys)]
        return torch.cat(parts, dim=1)


class FixExtractor(BaseFeaturesExtractor):
    """FIX: the same per-token adapters as WSA, concatenated instead of attended (K * d features)."""

    def __init__(self, observation_space: spaces.Dict, token_keys: list[str], context_key: str | None = None,
                 dim: int = 256) -> None:
        super().__init__(observation_space, features_dim=len(token_keys) * dim)
        self.token_keys = list(token_keys)
        self.tokens = TokenAdapters(observation_space, token_keys, dim)

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        z = self.tokens(obs)
        mask = token_mask(obs, z.shape[1], z.shape[0], z.device)
        return (z * mask.unsqueeze(-1)).flatten(1)


class CNNExtractor(BaseFeaturesExtractor):
    """CNN: spatial tokens of one grid size channel-concatenated and convolved; vector tokens concatenated."""

    def __init__(self, observation_space: spaces.Dict, token_keys: list[str], context_key: str | None = None,
                 dim: int = 256) -> None:
        self.token_keys = list(token_keys)
        self.maps = [k for k in token_keys if len(observation_space[k].shape) == 3]
        self.vectors = [k for k in token_keys if k not in self.maps]
        if len({observation_space[k].shape[1:] for k in self.maps}) > 1:
            raise ValueError("fusion=cnn needs every spatial token on the same grid")
        super().__init__(observation_space, features_dim=dim)
        head_in = sum(flat_dim(observation_space[k]) for k in self.vectors)
        if self.maps:
            channels = sum(observation_space[k].shape[0] for k in self.maps)
            _, h, w = observation_space[self.maps[0]].shape
            self.conv = nn.Sequential(nn.Conv2d(channels, 64, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(), nn.Flatten())
            head_in += 32 * h * w
        self.head = nn.Sequential(nn.Linear(head_in, dim), nn.ReLU())

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        b = obs[self.token_keys[0]].shape[0]
        mask = token_mask(obs, len(self.token_keys), b, obs[self.token_keys[0]].device).float()
        m = {k: mask[:, i] for i, k in enumerate(self.token_keys)}
        parts = [obs[k].float().flatten(1) * m[k][:, None] for k in self.vectors]
        if self.maps:
            stacked = torch.cat([obs[k].float() * m[k][:, None, None, None] for k in self.maps], dim=1)
            parts.append(self.conv(stacked))
        return self.head(torch.cat(parts, dim=1))


class E2EExtractor(BaseFeaturesExtractor):
    """E2E: one NatureCNN per camera on raw pixels, trained end to end, plus proprio through Linear+ReLU.
    `augment`: the augmentations its pixels get while it trains (fusion/augment.py; `e2e_augment`)."""

    def __init__(self, observation_space: spaces.Dict, token_keys: list[str], context_key: str | None = None,
                 dim: int = 512, augment: tuple[str, ...] | list[str] = ()) -> None:
        self.cameras = [k for k in token_keys if len(observation_space[k].shape) == 3]
        self.vectors = [k for k in token_keys if k not in self.cameras]
        super().__init__(observation_space, features_dim=dim * len(self.cameras) + 64 * len(self.vectors))
        self.token_keys = list(token_keys)
        self.cnns = nn.ModuleDict({k: NatureCNN(observation_space[k], features_dim=dim) for k in self.cameras})
        self.mlps = nn.ModuleDict({k: nn.Sequential(nn.Linear(flat_dim(observation_space[k]), 64), nn.ReLU())
                                   for k in self.vectors})
        self.augment = tuple(augment)

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        seen = {k: obs[k].float() for k in self.cameras}
        if self.training and self.augment:
            seen = {k: augment(x, self.augment) for k, x in seen.items()}
        parts = [self.cnns[k](seen[k]) for k in self.cameras]
        parts += [self.mlps[k](obs[k].float()) for k in self.vectors]
        return torch.cat(parts, dim=1)
