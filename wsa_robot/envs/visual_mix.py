"""A mix of visual variations drawn anew for every episode: pretraining frames (`wsa-robot pretrain --vary`) and
the envs an agent learns from (config `train_variations`, domain randomisation). A task's mix is made and
checked by envs/task_variations.py `visual_mix`.

Each episode is shown under one of the mix's kinds (envs/variations.py) with a variation seed from
VARIATION_SEEDS, which no evaluation uses (evaluations use seed 0 or the seeds a user names), or intact; one kind
can be held out of the mix, so a test on it is of generalisation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np


VARIATION_SEEDS = range(1000, 2000)  # the mix's variation seeds; evaluations use 0 (or a user's)


@dataclass(frozen=True)
class VisualMix:
    """Every episode under one of `kinds` (a variation seed from VARIATION_SEEDS) or, one time in
    len(kinds) + 1, intact."""
    kinds: tuple[str, ...]
    held_out: str | None = None  # named for the record: the kind left out of `kinds`
    unseeded: tuple[str, ...] = ()  # kinds that are the same change whatever the seed (lighting_dim)

    def draw(self, rng: np.random.Generator) -> str | None:
        pick = int(rng.integers(len(self.kinds) + 1))
        seed = int(rng.integers(VARIATION_SEEDS.start, VARIATION_SEEDS.stop))
        if pick == len(self.kinds):
            return None
        return self.kinds[pick] if self.kinds[pick] in self.unseeded else f"{self.kinds[pick]}:{seed}"

    @property
    def tag(self) -> str:
        """For a cache file's name: the kinds, hashed."""
        return "vis" + hashlib.sha1(",".join(sorted(self.kinds)).encode()).hexdigest()[:8]


class VaryEachEpisode(gym.Wrapper):
    """Before every reset, shows the scene under the mix's next draw (the env's `set_variation`), from a
    generator of its own seeded by the env's seed: the same env seed, the same sequence of variations."""

    def __init__(self, env: gym.Env, mix: VisualMix, seed: int | None) -> None:
        super().__init__(env)
        self.mix = mix
        self._rng = np.random.default_rng(None if seed is None else [seed, 0x5EED])

    def reset(self, **kwargs: Any):
        self.env.unwrapped.set_variation(self.mix.draw(self._rng))
        return self.env.reset(**kwargs)
