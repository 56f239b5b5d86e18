"""Backends behind one interface: `make_env(task, ...)` returns a gymnasium env with a Dict observation.
Each backend is one class (envs/backends/); this module checks what every env needs checked and asks the
task's backend to make it."""

from __future__ import annotations

# Imports inside functions: envs.gl and envs.task_variations, which load mujoco, only when an env is made or a
# visual mix is asked for.

from typing import TYPE_CHECKING, Any

from wsa_robot.envs.backends import BACKENDS, EnvOptions, RunOptions, backend_for
from wsa_robot.core.errors import UserError
from wsa_robot.core.task_spec import TaskSpec

if TYPE_CHECKING:
    import gymnasium as gym

    from wsa_robot.envs.visual_mix import VisualMix

__all__ = ["BACKENDS", "EnvOptions", "RunOptions", "checked_visual_mix", "make_env", "supports_depth"]


def supports_depth(task: TaskSpec) -> bool:
    return backend_for(task).depth


def checked_visual_mix(task: TaskSpec, vary: list[str] | None, hold_out: str | None,
                       names: tuple[str, str] = ("--vary", "--hold-out")) -> VisualMix | None:
    """envs/task_variations.py `visual_mix`, imported only when a mix is asked for (it loads mujoco, so the GL
    backend is chosen first); None when neither is given."""
    if not vary and not hold_out:
        return None
    from wsa_robot.envs.gl import choose_gl_backend

    choose_gl_backend()
    from wsa_robot.envs.task_variations import visual_mix

    return visual_mix(task, vary, hold_out, names)


def make_env(task: TaskSpec, cameras: list[str], image_size: int, options: EnvOptions | None = None,
             **kwargs: Any) -> gym.Env:
    """The task's env from its backend. `options` (or its fields as keywords) are described in
    envs/backends/base.py EnvOptions. The GL backend is chosen first: env subprocesses
    start here, and the next import loads mujoco."""
    from wsa_robot.envs.gl import choose_gl_backend

    choose_gl_backend()
    from wsa_robot.envs.task_variations import resolve

    o = options or EnvOptions(**kwargs)
    backend = backend_for(task)
    resolve(task, o.variation)  # a bad name, or a backend without variations: a UserError before any env is made
    backend.check_options(task, o)  # env subprocesses would only crash on an option the backend cannot honour
    if o.depth and not backend.depth:
        raise UserError(f"task {task.name} has no depth images; drop the depth encoders (see `wsa-robot encoders`)")
    return backend.make_env(task, cameras, image_size, o)
