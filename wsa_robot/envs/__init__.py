"""Backends behind one interface: `make_env(task, ...)` returns a gymnasium env with a Dict observation."""

from __future__ import annotations

from typing import Callable

import gymnasium as gym

from wsa_robot.errors import UserError
from wsa_robot.tasks import TaskSpec

BACKENDS = ("robosuite",)


def make_env(task: TaskSpec, cameras: list[str], image_size: int, depth: bool = False, seed: int | None = None,
             horizon: int | None = None, quality: dict[str, bool] | None = None) -> gym.Env:
    if task.backend == "robosuite":
        from wsa_robot.envs.robosuite_env import RobosuiteEnv

        return RobosuiteEnv(task, cameras, image_size, depth=depth, seed=seed, horizon=horizon, quality=quality)
    raise UserError(f"task {task.name} uses backend {task.backend!r}, not available; backends: {', '.join(BACKENDS)}")


def env_factory(task: TaskSpec, cameras: list[str], image_size: int, seed: int, **kwargs) -> Callable[[], gym.Env]:
    """A picklable thunk for SubprocVecEnv."""
    def _make() -> gym.Env:
        return make_env(task, cameras, image_size, seed=seed, **kwargs)
    return _make
