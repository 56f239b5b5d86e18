"""Fusion modules: the stable-baselines3 features extractors that turn token observations into a state.

fusion/ knows nothing of robosuite or Atari: it sees a Dict of tokens, an optional "token_mask" and a
context key.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Literal

import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

from wsa_robot.fusion.attention import CapturedWeights, DPAExtractor, WSAExtractor, _AttentionFusion
from wsa_robot.fusion.baselines import CNNExtractor, E2EExtractor, FixExtractor, LinExtractor
from wsa_robot.fusion.names import FUSIONS

EXTRACTORS: dict[str, type[BaseFeaturesExtractor]] = {
    "wsa": WSAExtractor, "lin": LinExtractor, "fix": FixExtractor, "dpa": DPAExtractor,
    "cnn": CNNExtractor, "e2e": E2EExtractor,
}
assert tuple(EXTRACTORS) == FUSIONS, "fusion/names.py names every extractor, in order"


@dataclass(frozen=True)
class Fusion:
    """What a fusion is, for the code around it (the pipeline, token edits on resume, sweeps, scripts)."""
    name: str
    # learns from the cameras' raw pixels end to end (E2E): no frozen encoders, so no tokens to add or remove
    pixels: bool = False
    weights: bool = False  # weighs its tokens (attention): the weights are logged, plotted and drawn on videos
    # how it reads the context token: "always" (it attends with it), "optional" (with lin_context), "never"
    context: Literal["always", "optional", "never"] = "never"
    # why its parameters depend on the number of tokens, so it cannot take a new one; None: it can grow
    fixed_tokens: str | None = None
    scorer: bool = False  # its weights come from the shared scorer network, so it reads `wsa_scorer`

    @property
    def growable(self) -> bool:
        return self.fixed_tokens is None


FUSION_FACTS: dict[str, Fusion] = {f.name: f for f in (
    Fusion("wsa", weights=True, context="always", scorer=True),
    Fusion("dpa", weights=True, context="always"),
    Fusion("lin", context="optional", fixed_tokens="fusion=lin concatenates the tokens"),
    Fusion("fix", fixed_tokens="fusion=fix concatenates one adapted vector per token"),
    Fusion("cnn", fixed_tokens="fusion=cnn stacks the token maps into one conv input"),
    Fusion("e2e", pixels=True, fixed_tokens="fusion=e2e learns from pixels"),
)}


def pixel_based(fusion: str) -> bool:
    """Whether the fusion learns from raw pixels (E2E) rather than frozen encoders' tokens."""
    return FUSION_FACTS[fusion].pixels


def can_grow(fusion: str) -> bool:
    """Whether `train --resume --add-encoder` can give the fusion a new token (its parameters do not depend on
    the number of tokens)."""
    return FUSION_FACTS[fusion].growable


def reads_scorer(fusion: str) -> bool:
    """Whether the fusion's weights come from the `wsa_scorer` it is given (WSA; DPA's are dot products)."""
    return FUSION_FACTS[fusion].scorer


def has_weights(fusion: str) -> bool:
    return FUSION_FACTS[fusion].weights


def extractor_kwargs(fusion: str, token_keys: list[str], context_key: str | None, dim: int = 256,
                     wsa_scorer: str = "additive", scorer_hidden: int | None = None,
                     lin_context: bool = False, augment: list[str] | None = None
                     ) -> tuple[type[BaseFeaturesExtractor], dict]:
    """The class and `features_extractor_kwargs` for SB3's `policy_kwargs`. LIN gets the context key only with
    `lin_context` (the reference's LIN concatenates the tokens alone); WSA and DPA always attend with it.
    `augment`: a pixel fusion's training augmentations (absent when none, as in runs saved before them)."""
    if fusion not in EXTRACTORS:
        raise ValueError(f"unknown fusion {fusion!r}; choose one of: {', '.join(FUSIONS)}")
    if FUSION_FACTS[fusion].context == "optional" and not lin_context:
        context_key = None
    kwargs = {"token_keys": list(token_keys), "context_key": context_key}
    if not pixel_based(fusion):
        kwargs["dim"] = dim
    elif augment:
        kwargs["augment"] = list(augment)
    if reads_scorer(fusion):
        kwargs["scorer"] = wsa_scorer
        if scorer_hidden is not None:  # absent from the kwargs of runs saved before the key: the width was d
            kwargs["scorer_hidden"] = scorer_hidden
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
