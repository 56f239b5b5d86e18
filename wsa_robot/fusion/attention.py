"""WSA (the paper's Weight Sharing Attention) and DPA (scaled dot-product attention) over adapted tokens."""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn
from torch.nn import functional as F

from wsa_robot.fusion.adapters import TokenAdapters, flat_dim, projection, token_mask
from wsa_robot.fusion.names import SCORERS


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
        self._captures: list[CapturedWeights] = []  # open `capture()` blocks; nothing is kept outside one

    def scores(self, c: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def attend(self, obs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """The fused state h [B, d] and the token weights a [B, K] it was made with (both in the graph)."""
        z = self.tokens(obs)                                        # [B, K, d]
        c = self.context(obs[self.context_key].float())              # [B, d]
        mask = token_mask(obs, z.shape[1], z.shape[0], z.device)
        a = masked_softmax(self.scores(c, z), mask)                  # [B, K]
        return (a.unsqueeze(-1) * z).sum(dim=1), a

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        h, a = self.attend(obs)
        for capture in self._captures:
            capture.take(a)
        return h

    @contextmanager
    def capture(self) -> Iterator["CapturedWeights"]:
        """The weights of the one forward made inside the block (e.g. by SB3's predict), as a value that no
        forward after the block (a critic's pass over a replay batch, another predict) can change."""
        captured = CapturedWeights()
        self._captures.append(captured)
        try:
            yield captured
        finally:
            self._captures.remove(captured)


class CapturedWeights:
    """[B, K] token weights of one forward, as numpy; None until that forward ran (or for fusions without)."""

    def __init__(self) -> None:
        self.value: np.ndarray | None = None

    def take(self, weights: torch.Tensor) -> None:
        if self.value is not None:  # whose weights would it hold? the caller must scope one forward
            raise RuntimeError("two fusion forwards inside one capture of the weights; capture each on its own")
        self.value = weights.detach().float().cpu().numpy()




class WSAExtractor(_AttentionFusion):
    """s_k = w([c; z_k]) with ONE scorer network w shared by all tokens (the paper's weight sharing).

    scorer="additive" (the default): w = Linear(2d, m) + tanh + Linear(m, 1), i.e. additive attention
    s_k = v . tanh(W_c c + W_z z_k + b), with m = `scorer_hidden` (default d). The score is non-linear in the pair, so the context changes the
    weights, and tanh never stops passing gradient the way a ReLU can.
    scorer="scaled": the additive scorer with its score divided by sqrt(d), as scaled dot-product attention
    divides its own. Adam moves each of the scorer's 2d*d + d parameters by about the learning rate per step
    whatever the gradient's size, so an unscaled score can move by several units in one PPO update: on Pong
    (d=256, lr 2.5e-4, 16 Adam steps per update) the first update put 0.94-0.96 of the weight on one skill
    (fp32 and bf16 alike), over 0.99 until 190k steps. Scaled, the weights move by ~0.01 an update.
    scorer="relu": the reference's Linear(2d, 1) + ReLU. Its context enters only through the ReLU, and when
    every pre-activation is negative the scores are all 0, the weights stay uniform and no gradient reaches w
    again (on Lift within 300 SAC updates).
    scorer="linear": Linear(2d, 1), this project's default until the context bug was found: s_k = w_c.c +
    w_z.z_k + b, and a softmax cancels the term that is the same for every k, so its weights never depend on
    the context. Kept only so runs trained with it load, evaluate and resume as they were trained.
    """

    def __init__(self, observation_space: spaces.Dict, token_keys: list[str], context_key: str,
                 dim: int = 256, scorer: str = "additive", scorer_hidden: int | None = None) -> None:
        super().__init__(observation_space, token_keys, context_key, dim)
        if scorer not in SCORERS:
            raise ValueError(f"scorer must be one of {', '.join(SCORERS)}, not {scorer!r}")
        self.scorer_kind = scorer
        if scorer in ("additive", "scaled"):
            hidden = scorer_hidden or dim
            self.scorer = nn.Sequential(nn.Linear(2 * dim, hidden), nn.Tanh(), nn.Linear(hidden, 1, bias=False))
        else:
            self.scorer = nn.Sequential(nn.Linear(2 * dim, 1), *([nn.ReLU()] if scorer == "relu" else []))

    def scores(self, c: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """w([c; z_k]) for every k, without building the [B, K, 2d] pairs (an eighth of a SAC update on CPU
        went to concatenating them): the first Linear splits into its context and token halves. The
        parameters are those of the Sequential on the pairs, as saved."""
        first = self.scorer[0]
        d = z.shape[-1]
        s = F.linear(z, first.weight[:, d:]) + F.linear(c, first.weight[:, :d], first.bias).unsqueeze(1)
        s = self.scorer[1:](s).squeeze(-1)  # [B, K]
        return s / math.sqrt(d) if self.scorer_kind == "scaled" else s


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
