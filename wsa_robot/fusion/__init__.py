"""Fusion modules: the stable-baselines3 features extractors that turn token observations into a state.

fusion/ knows nothing of robosuite or Atari: it sees a Dict of tokens, an optional "token_mask" and a
context key.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

from wsa_robot.fusion.attention import CapturedWeights, DPAExtractor, WSAExtractor, _AttentionFusion
from wsa_robot.fusion.baselines import CNNExtractor, E2EExtractor, FixExtractor, LinExtractor

EXTRACTORS: dict[str, type[BaseFeaturesExtractor]] = {
    "wsa": WSAExtractor, "lin": LinExtractor, "fix": FixExtractor, "dpa": DPAExtractor,
    "cnn": CNNExtractor, "e2e": E2EExtractor,
}
FUSIONS = tuple(EXTRACTORS)


def extractor_kwargs(fusion: str, token_keys: list[str], context_key: str | None, dim: int = 256,
                     wsa_scorer: str = "additive", lin_context: bool = False) -> tuple[type[BaseFeaturesExtractor], dict]:
    """The class and `features_extractor_kwargs` for SB3's `policy_kwargs`. LIN gets the context key only with
    `lin_context` (the reference's LIN concatenates the tokens alone); WSA and DPA always attend with it."""
    if fusion not in EXTRACTORS:
        raise ValueError(f"unknown fusion {fusion!r}; choose one of: {', '.join(FUSIONS)}")
    if fusion == "lin" and not lin_context:
        context_key = None
    kwargs = {"token_keys": list(token_keys), "context_key": context_key}
    if fusion != "e2e":
        kwargs["dim"] = dim
    if fusion == "wsa":
        kwargs["scorer"] = wsa_scorer
    return EXTRACTORS[fusion], kwargs


@contextmanager
def capture_weights(extractor: torch.nn.Module) -> Iterator[CapturedWeights]:
    """`with capture_weights(ext) as w: <one forward>`, then `w.value` holds that forward's [B, K] token
    weights (numpy) for WSA and DPA, None for fusions without weights."""
    if isinstance(extractor, _AttentionFusion):
        with extractor.capture() as captured:
            yield captured
    else:
        yield CapturedWeights()
