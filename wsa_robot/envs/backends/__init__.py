"""The registry of backends, which finds a task's. Each backend is one class (envs/backends/base.py says what a
backend is) in its own package beside its env: envs/robosuite/backend.py, envs/atari/backend.py,
envs/gym_robotics/backend.py. Adding a backend: one module with a `Backend` subclass and one line in `BACKENDS`.

Light: no simulator is imported here or by the backend modules at import time (see base.py)."""

from __future__ import annotations

from wsa_robot.envs.atari.backend import AtariBackend
from wsa_robot.envs.backends.base import Backend, EnvOptions, RunOptions
from wsa_robot.envs.gym_robotics.backend import GymRoboticsBackend
from wsa_robot.envs.robosuite.backend import RobosuiteBackend
from wsa_robot.core.errors import UserError
from wsa_robot.core.task_spec import TaskSpec

__all__ = ["BACKENDS", "Backend", "EnvOptions", "RunOptions", "backend_for", "generated_task"]

BACKENDS: dict[str, Backend] = {
    "robosuite": RobosuiteBackend(),
    "gym_robotics": GymRoboticsBackend(),
    "atari": AtariBackend(),
}


def backend_for(task: TaskSpec) -> Backend:
    """The backend a task names; a UserError listing the registered ones when it names none of them."""
    if task.backend not in BACKENDS:
        raise UserError(f"task {task.name} uses backend {task.backend!r}, not available; backends: "
                        f"{', '.join(BACKENDS)}")
    return BACKENDS[task.backend]


def generated_task(name: str) -> TaskSpec | None:
    """The task a backend generates for `<prefix>/<rest>` (any ALE game, kitchen subsets); None when no
    backend generates tasks under that prefix."""
    prefix, sep, rest = name.partition("/")
    for backend in BACKENDS.values():
        if sep and backend.prefix == prefix:
            return backend.generate(rest)
    return None
