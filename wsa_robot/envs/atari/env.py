"""Atari games (ALE) as a gymnasium env with a Dict observation: one "camera", `screen`, the 4-frame grey stack.

The reference setup (the paper's code used stable-baselines3's `make_atari_env`): ALE with no built-in frame
skip, gymnasium's AtariPreprocessing (84x84 grey, max over the last 2 of 4 repeated frames, up to 30 no-ops at
reset), FIRE at reset for the games that wait for it, a stack of 4 frames. For training only, a lost life ends
the episode and rewards are clipped to their sign; eval envs play whole games and report real scores, and press
FIRE after a lost life as training's reset does (RelaunchAfterLostLife).

The stack is channel-last, uint8 [84, 84, 4], oldest frame first: the FrozenEncoder contract (uint8
[B, H, W, C]) holds, and SB3 transposes it to [4, 84, 84] for NatureCNN (VecTransposeImage) as it does for RGB.
"""

from __future__ import annotations

from typing import Any

import ale_py
import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation
from stable_baselines3.common.atari_wrappers import ClipRewardEnv, EpisodicLifeEnv, FireResetEnv

from wsa_robot.envs.atari.stall import STALL_STEPS, StallLimit
from wsa_robot.envs.monitor import EpisodeMonitor
from wsa_robot.envs.variations import pick
from wsa_robot.core.task_spec import TaskSpec

# Imports inside functions: variations.py, HackAtari's modifications, which an intact Atari game never needs.

gym.register_envs(ale_py)

STACK = 4              # frames per observation
FRAME_SKIP = 4         # ALE frames per agent step
NOOP_MAX = 30          # random no-ops at reset
SCREEN = "screen"      # the one camera of an Atari task (tasks/atari/*.yaml)


class ScreenObservation(gym.ObservationWrapper):
    """[4, S, S] frame stack -> {"screen": [S, S, 4]} channel-last; also films the full-colour screen."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        stack, h, w = env.observation_space.shape
        self.observation_space = spaces.Dict({SCREEN: spaces.Box(0, 255, (h, w, stack), np.uint8)})

    def observation(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        return {SCREEN: np.ascontiguousarray(np.moveaxis(observation, 0, -1))}

    def video_frames(self) -> dict[str, np.ndarray]:
        """The game's own RGB screen (210x160) for videos; the agent never sees it."""
        return {SCREEN: self.unwrapped.ale.getScreenRGB()}


def make_atari_env(task: TaskSpec, image_size: int = 84, training: bool = False, seed: int | None = None,
                   horizon: int | None = None, variation: str | None = None,
                   stall_steps: int = STALL_STEPS) -> gym.Env:
    """The game as a Dict-observation env. `horizon`: ALE frames per episode (default the task's, 108000 =
    30 minutes of play). `training`: episodic life and reward clipping (what PPO learns from); off for eval.
    `variation`: a HackAtari modification of the game (wsa_robot/envs/atari/variations.py); None: intact.
    `stall_steps`: eval envs end a game that makes no progress for that many agent steps (StallLimit); 0: never.

    An EpisodeMonitor sits under the life and clipping wrappers, so SB3's episode return is the real game score."""
    from wsa_robot.envs.atari.variations import variations

    found = pick(variation, lambda: variations(task))
    kwargs = dict(frameskip=1, max_num_frames_per_episode=horizon or task.horizon, **task.env_kwargs)
    if found is None:
        env = gym.make(task.env_id, **kwargs)
    else:
        from wsa_robot.envs.atari.variations import HackedAtari

        kwargs.pop("frameskip")
        env = HackedAtari(task.env_id, found[0].name, **kwargs)
    env = AtariPreprocessing(env, noop_max=NOOP_MAX, frame_skip=FRAME_SKIP, screen_size=image_size)
    if not training and stall_steps:
        env = StallLimit(env, stall_steps)
    env = EpisodeMonitor(env)
    if training:
        env = ClipRewardEnv(EpisodicLifeEnv(env))
    meanings = env.unwrapped.get_action_meanings()
    if len(meanings) >= 3 and meanings[1] == "FIRE":
        if not training:
            env = RelaunchAfterLostLife(env)
        env = FireResetEnv(env)
    env = ScreenObservation(FrameStackObservation(env, STACK))
    return SeededOnce(env, seed)


class RelaunchAfterLostLife(gym.Wrapper):
    """Eval envs of games with FIRE: after a lost life, the steps a training env takes there (EpisodicLifeEnv
    ends the episode, its reset steps NOOP, FireResetEnv's steps FIRE then action 2). A policy trained that way
    never had to relaunch the ball itself; without this its eval game stalls after its first lost life."""

    RELAUNCH = (0, 1, 2)  # NOOP, FIRE, action 2: the steps in SB3's EpisodicLifeEnv.reset, FireResetEnv.reset

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.lives = 0

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.lives = self.unwrapped.ale.lives()
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if 0 < self.unwrapped.ale.lives() < self.lives:
            for relaunch in self.RELAUNCH:
                if terminated or truncated:
                    break
                obs, more, terminated, truncated, info = self.env.step(relaunch)
                reward += more
        self.lives = self.unwrapped.ale.lives()
        return obs, reward, terminated, truncated, info


class SeededOnce(gym.Wrapper):
    """Seeds the first reset (and the action space) with the env's own seed, unless the caller gives one."""

    def __init__(self, env: gym.Env, seed: int | None) -> None:
        super().__init__(env)
        self._seed = seed
        if seed is not None:
            self.action_space.seed(seed)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        seed, self._seed = (seed if seed is not None else self._seed), None
        return self.env.reset(seed=seed, options=options)
