"""Backends behind one interface: `make_env(task, ...)` returns a gymnasium env with a Dict observation."""

from __future__ import annotations

import gymnasium as gym

from wsa_robot.errors import UserError
from wsa_robot.tasks import TaskSpec

BACKENDS = ("robosuite",)


def make_env(task: TaskSpec, cameras: list[str], image_size: int, depth: bool = False, seed: int | None = None,
             horizon: int | None = None, reward_shaping: bool | None = None,
             quality: dict[str, bool] | None = None, video_size: int | None = None) -> gym.Env:
    if task.backend == "robosuite":
        from wsa_robot.envs.robosuite_env import RobosuiteEnv

        return RobosuiteEnv(task, cameras, image_size, depth=depth, seed=seed, horizon=horizon,
                            reward_shaping=reward_shaping, quality=quality, video_size=video_size)
    raise UserError(f"task {task.name} uses backend {task.backend!r}, not available; backends: {', '.join(BACKENDS)}")

