"""`reward_scale`: the training envs' reward multiplied by a constant (a SAC candidate: the entropy bonus is
weighed against the reward's size). Eval envs keep the task's own reward, so returns compare across runs."""

from __future__ import annotations

import gymnasium as gym


class ScaledReward(gym.RewardWrapper):
    def __init__(self, env: gym.Env, scale: float) -> None:
        super().__init__(env)
        self.scale = float(scale)

    def reward(self, reward: float) -> float:
        return self.scale * float(reward)
