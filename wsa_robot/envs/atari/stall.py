"""Eval games that make no progress end early, and say so (an agent that never presses FIRE would otherwise
play each eval game of Breakout to the 108k-frame limit: over 5 minutes a game)."""

from __future__ import annotations

import gymnasium as gym

STALL_STEPS = 2000  # agent steps (8000 frames, 2.2 min of play) with no point scored or lost and no life lost


class StallLimit(gym.Wrapper):
    """Truncates a game after `steps` agent steps with no reward (a point scored or lost) and no life lost, and
    says so: the last step's info has `stalled: True`. It sits under the Monitor, so the game's score so far is
    still reported as the episode's return."""

    def __init__(self, env: gym.Env, steps: int) -> None:
        super().__init__(env)
        self.steps, self.idle, self.lives = steps, 0, 0

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.idle, self.lives = 0, self.unwrapped.ale.lives()
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        lives = self.unwrapped.ale.lives()
        self.idle = 0 if reward != 0 or lives != self.lives else self.idle + 1
        self.lives = lives
        if self.idle >= self.steps and not (terminated or truncated):
            truncated, info = True, {**info, "stalled": True}
        return obs, reward, terminated, truncated, info
