"""Backends behind one interface: `make_env(task, ...)` returns a gymnasium env with a Dict observation."""

from __future__ import annotations

import gymnasium as gym

from wsa_robot.errors import UserError
from wsa_robot.tasks import TaskSpec

BACKENDS = ("robosuite", "gym_robotics", "atari")
_DEPTH = ("robosuite", "gym_robotics")  # backends that render depth beside the images


def supports_depth(task: TaskSpec) -> bool:
    return task.backend in _DEPTH


def check_options(task: TaskSpec, reward_shaping: bool | None) -> None:
    """Options a backend cannot honour, refused in the caller's process (env subprocesses would only crash)."""
    if reward_shaping and task.backend == "gym_robotics" and not task.goal:
        raise UserError(f"task {task.name} has only its sparse reward (one per subtask done); "
                        "drop reward_shaping=true")


def make_env(task: TaskSpec, cameras: list[str], image_size: int, depth: bool = False, seed: int | None = None,
             horizon: int | None = None, reward_shaping: bool | None = None,
             quality: dict[str, bool] | None = None, video_size: int | None = None,
             training: bool = False, variation: str | None = None) -> gym.Env:
    """`training`: the env an agent learns from (Atari: episodic life and clipped rewards); eval envs report
    real returns over whole episodes. robosuite envs are the same either way.
    `variation`: a named visual variation, `NAME` or `NAME:SEED` (see envs/variations.py); None: intact.
    The GL backend is chosen first: env subprocesses start here, and the next import loads mujoco."""
    from wsa_robot.envs.gl import choose_gl_backend

    choose_gl_backend()
    from wsa_robot.envs.variations import resolve

    resolve(task, variation)  # a bad name, or a backend without variations: a UserError before any env is made
    if depth and not supports_depth(task):
        raise UserError(f"task {task.name} has no depth images; drop the depth encoders (see `wsa-robot encoders`)")
    if task.backend == "robosuite":
        from wsa_robot.envs.robosuite_env import RobosuiteEnv

        return RobosuiteEnv(task, cameras, image_size, depth=depth, seed=seed, horizon=horizon,
                            reward_shaping=reward_shaping, quality=quality, video_size=video_size,
                            variation=variation)
    if task.backend == "atari":
        from wsa_robot.envs.atari import make_atari_env

        return make_atari_env(task, image_size, training=training, seed=seed, horizon=horizon,
                              variation=variation)
    if task.backend == "gym_robotics":
        from wsa_robot.envs.gym_robotics import GymRoboticsEnv

        return GymRoboticsEnv(task, cameras, image_size, depth=depth, seed=seed, horizon=horizon,
                              reward_shaping=reward_shaping, quality=quality, video_size=video_size)
    raise UserError(f"task {task.name} uses backend {task.backend!r}, not available; backends: {', '.join(BACKENDS)}")
