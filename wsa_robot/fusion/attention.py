"""WSA (the paper's Weight Sharing Attention) and DPA (scaled dot-product attention) over adapted tokens."""

from __future__ import annotations

import math

import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn
from torch.nn import functional as F

from wsa_robot.fusion.adapters import TokenAdapters, flat_dim, projection, token_mask


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over tokens where masked tokens get exactly 0; a row with no token left gives all zeros."""
    scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=1)
    return torch.nan_to_num(weights, nan=0.0)


class _AttentionFusion(BaseFeaturesExtractor):
    def __init__(self, observation_space: spaces.Dict, token_keys: list[str], context_key: str,
                 dim: int = 256) -> None:
        super().__init__(observation_space, features_dim=dim)
        self.token_keys, self.context_key = list(token_keys), context_key
        self.tokens = TokenAdapters(observation_space, token_keys, dim)
        self.context = nn.Sequential(nn.Flatten(), projection(flat_dim(observation_space[context_key]), dim))
        self.last_weights: torch.Tensor | None = None  # [B, K], overwritten each forward (never accumulated)

    def scores(self, c: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        z = self.tokens(obs)                                        # [B, K, d]
        c = self.context(obs[self.context_key].float())              # [B, d]
        mask = token_mask(obs, z.shape[1], z.shape[0], z.device)
        a = masked_softmax(self.scores(c, z), mask)                  # [B, K]
        self.last_weights = a.detach().cpu()
        return (a.unsqueeze(-1) * z).sum(dim=1)


class WSAExtractor(_AttentionFusion):
    """s_k = w([c; z_k]) with ONE scorer w = Linear(2d, 1) shared by all tokens.

    The reference ends w with a ReLU (`scorer="relu"` reproduces it). When every pre-activation is negative
    the scores are all 0, the weights stay uniform and no gradient reaches w again; on Lift this happened
    within 300 SAC updates, so the default scorer is linear (softmax needs no non-negative scores).
    """

    def __init__(self, observation_space: spaces.Dict, token_keys: list[str], context_key: str,
                 dim: int = 256, scorer: str = "linear") -> None:
        super().__init__(observation_space, token_keys, context_key, dim)
        if scorer not in ("linear", "relu"):
            raise ValueError(f"scorer must be 'linear' or 'relu', not {scorer!r}")
        self.scorer = nn.Sequential(nn.Linear(2 * dim, 1), *([nn.ReLU()] if scorer == "relu" else []))

    def scores(self, c: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """w([c; z_k]) = w_c.c + w_z.z_k + b, without building the [B, K, 2d] pairs (an eighth of a SAC update
        on CPU went to concatenating them); the parameters are those of Linear(2d, 1), as saved."""
        linear = self.scorer[0]
        d = z.shape[-1]
        s = F.linear(z, linear.weight[:, d:]) + F.linear(c, linear.weight[:, :d], linear.bias).unsqueeze(1)
        return self.scorer[1:](s).squeeze(-1)  # [B, K]; the relu scorer's ReLU


class DPAExtractor(_AttentionFusion):
    """Scaled dot-product attention with the context as the query; values are the adapted tokens."""

    def __init__(self, observation_space: spaces.Dict, token_keys: list[str], context_key: str,
                 dim: int = 256) -> None:
        super().__init__(observation_space, token_keys, context_key, dim)
        self.query = nn.Linear(dim, dim, bias=False)
        self.key = nn.Linear(dim, dim, bias=False)

    def scores(self, c: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        q, k = self.query(c).unsqueeze(1), self.key(z)
        return (q * k).sum(-1) / math.sqrt(z.shape[-1])
