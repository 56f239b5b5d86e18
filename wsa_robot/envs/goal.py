"""HER's rewards for relabelled goals, computed in the learner's process.

stable-baselines3's HerReplayBuffer asks `env.env_method("compute_reward", achieved, desired, infos)` for every
batch it samples. Through a SubprocVecEnv that is a pipe round trip per gradient step, and when an update runs
while the env subprocess is stepping (sac.overlap, agents/overlap.py) the reply would cross the step's reply on
the same pipe. This wrapper asks each backend env once for its reward as a plain picklable function
(`goal_reward()`) and answers `compute_reward` itself; every other call goes down the stack as before.
"""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices

GOAL_KEYS = ("achieved_goal", "desired_goal")


def is_goal_space(space) -> bool:
    """A Dict observation space with the two goal vectors HER relabels."""
    return hasattr(space, "spaces") and all(k in space.spaces for k in GOAL_KEYS)


class GoalRewardVecEnv(VecEnvWrapper):
    def __init__(self, venv: VecEnv) -> None:
        super().__init__(venv)
        self.reward_fn = venv.env_method("goal_reward", indices=[0])[0]  # the same function for every env

    def compute_reward(self, achieved_goal, desired_goal, infos) -> Any:
        return self.reward_fn(achieved_goal, desired_goal, infos)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        if method_name == "compute_reward":
            n = len(self._get_indices(indices))
            return [self.compute_reward(*method_args, **method_kwargs) for _ in range(n)]
        return self.venv.env_method(method_name, *method_args, indices=indices, **method_kwargs)

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        return self.venv.step_wait()
