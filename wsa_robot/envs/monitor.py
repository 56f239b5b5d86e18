"""Episode returns and lengths for SB3's logs, as SB3's Monitor reports them, without importing SB3.

Importing anything of stable_baselines3 runs its package's __init__, which loads torch (2-3 s and a few hundred
MB per process); an env subprocess runs no tensor op, so the wrappers it builds come from torch-free modules
(envs/worker.py)."""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym


class EpisodeMonitor(gym.Wrapper):
    """At an episode's end, info["episode"] = {"r": return, "l": length, "t": seconds since the wrapper was
    made}: what SB3 reads into `ep_info_buffer`. A reset may come at any time (Atari's lives reset under it)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._t0 = time.time()
        self._return, self._length = 0.0, 0

    def reset(self, **kwargs: Any):
        self._return, self._length = 0.0, 0
        return self.env.reset(**kwargs)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._return += float(reward)
        self._length += 1
        if terminated or truncated:
            info = dict(info)
            info["episode"] = {"r": round(self._return, 6), "l": self._length,
                               "t": round(time.time() - self._t0, 6)}
        return obs, reward, terminated, truncated, info


def is_wrapped(env: gym.Env, wrapper: type[gym.Wrapper]) -> bool:
    """Whether `wrapper` is anywhere in env's chain of wrappers (SB3's env_util.is_wrapped, torch-free)."""
    while isinstance(env, gym.Wrapper):
        if isinstance(env, wrapper):
            return True
        env = env.env
    return False
