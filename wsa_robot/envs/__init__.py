"""Backends behind one interface: `make_env(task, ...)` returns a gymnasium env with a Dict observation."""

from __future__ import annotations

import gymnasium as gym

from wsa_robot.errors import UserError
from wsa_robot.task_spec import TaskSpec

BACKENDS = ("robosuite", "gym_robotics", "atari")
_DEPTH = ("robosuite", "gym_robotics")  # backends that render depth beside the images


def supports_depth(task: TaskSpec) -> bool:
    return task.backend in _DEPTH


def check_options(task: TaskSpec, reward_shaping: bool | None, state: bool = False,
                  controller: str = "osc_pose", reward_scale: float = 1.0) -> None:
    """Options a backend cannot honour, refused in the caller's process (env subprocesses would only crash)."""
    if reward_shaping and task.backend == "gym_robotics" and not task.goal:
        raise UserError(f"task {task.name} has only its sparse reward (one per subtask done); "
                        "drop reward_shaping=true")
    if state and (task.backend == "atari" or task.env_id.startswith("FetchReach")):
        raise UserError(f"task {task.name} has no object whose state encoders=state could give; "
                        "use camera encoders (see `wsa-robot encoders`)")
    if controller != "osc_pose" and task.backend != "robosuite":
        raise UserError(f"controller={controller} chooses a robosuite arm controller; task {task.name} "
                        f"({task.backend}) has its own action space: drop the override")
    if reward_scale != 1.0 and task.goal:
        raise UserError(f"task {task.name} learns with HER, which recomputes rewards unscaled; "
                        "drop reward_scale (keep 1.0)")


def make_env(task: TaskSpec, cameras: list[str], image_size: int, depth: bool = False, seed: int | None = None,
             horizon: int | None = None, reward_shaping: bool | None = None,
             quality: dict[str, bool] | None = None, video_size: int | None = None,
             training: bool = False, variation: str | None = None, state: bool = False,
             controller: str = "osc_pose") -> gym.Env:
    """`training`: the env an agent learns from (Atari: episodic life and clipped rewards); eval envs report
    real returns over whole episodes. robosuite envs are the same either way.
    `variation`: a named visual variation, `NAME` or `NAME:SEED` (see envs/variations.py); None: intact.
    `state`: the observation also holds `state`, the privileged object state (encoders/state.py).
    `controller`: the robosuite arm controller (config key `controller`), osc_pose or osc_position.
    The GL backend is chosen first: env subprocesses start here, and the next import loads mujoco."""
    from wsa_robot.envs.gl import choose_gl_backend

    choose_gl_backend()
    from wsa_robot.envs.variations import resolve

    resolve(task, variation)  # a bad name, or a backend without variations: a UserError before any env is made
    check_options(task, reward_shaping, state=state, controller=controller)
    if depth and not supports_depth(task):
        raise UserError(f"task {task.name} has no depth images; drop the depth encoders (see `wsa-robot encoders`)")
    if task.backend == "robosuite":
        from wsa_robot.envs.robosuite_env import RobosuiteEnv

        return RobosuiteEnv(task, cameras, image_size, depth=depth, seed=seed, horizon=horizon,
                            reward_shaping=reward_shaping, quality=quality, video_size=video_size,
                            variation=variation, state=state, controller=controller)
    if task.backend == "atari":
        from wsa_robot.envs.atari import make_atari_env

        return make_atari_env(task, image_size, training=training, seed=seed, horizon=horizon,
                              variation=variation)
    if task.backend == "gym_robotics":
        from wsa_robot.envs.gym_robotics import GymRoboticsEnv

        return GymRoboticsEnv(task, cameras, image_size, depth=depth, seed=seed, horizon=horizon,
                              reward_shaping=reward_shaping, quality=quality, video_size=video_size, state=state)
    raise UserError(f"task {task.name} uses backend {task.backend!r}, not available; backends: {', '.join(BACKENDS)}")
