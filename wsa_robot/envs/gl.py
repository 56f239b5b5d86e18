"""Which OpenGL backend MuJoCo renders with: the user's MUJOCO_GL, else a headless one (EGL, then OSMesa).

MuJoCo fixes `mujoco.GLContext` from MUJOCO_GL when it is first imported, and without it picks GLFW, which
needs a display: on a headless machine every render then fails (`gladLoadGL error`). So the backend is chosen
before anything imports mujoco, by each process's entry: the CLI's `main`, `envs.make_env` (env subprocesses
run it first), a Ray trial's `train_job`, and whoever imports envs.task_variations outside those (it loads
mujoco). Nothing here runs at import (tests/test_import_side_effects.py). The renderer asks `gl_context` for
its context, so a library user who imported mujoco first still renders with the chosen backend.
"""

from __future__ import annotations

import ctypes.util
import os

from wsa_robot.core.errors import UserError

# Imports inside functions: mujoco's GL contexts; importing mujoco before the backend is chosen is the bug this
# module exists to prevent.

_LIBS = {"egl": "EGL", "osmesa": "OSMesa"}  # headless backends, in order of preference, and their libraries
_VARS = ("MUJOCO_GL", "PYOPENGL_PLATFORM")
_user_env: dict[str, str] | None = None  # those variables as the user set them, before this process chose


def choose_gl_backend() -> str | None:
    """Set MUJOCO_GL (and PYOPENGL_PLATFORM) for this process and the processes it starts, unless the user set
    MUJOCO_GL; return the backend, or None when no headless library is installed (Atari needs none)."""
    global _user_env
    if _user_env is None:
        _user_env = {k: os.environ[k] for k in _VARS if k in os.environ}
    chosen = os.environ.get("MUJOCO_GL")
    if not chosen:
        chosen = next((backend for backend, lib in _LIBS.items() if ctypes.util.find_library(lib)), None)
        if chosen is None:
            return None
        os.environ["MUJOCO_GL"] = chosen
    if chosen in _LIBS:  # PyOpenGL must load the same platform (mujoco's egl/osmesa modules refuse another)
        os.environ.setdefault("PYOPENGL_PLATFORM", chosen)
    return chosen


def ensure_headless_gl() -> str:
    """`choose_gl_backend`, or a UserError naming the packages to install when there is no backend."""
    backend = choose_gl_backend()
    if backend is None:
        raise UserError(
            "no headless OpenGL found for MuJoCo rendering; install one: "
            "`apt-get install libegl1 libgl1` (EGL) or `apt-get install libosmesa6` (OSMesa)"
        )
    return backend


def user_gl_env() -> dict[str, str]:
    """MUJOCO_GL / PYOPENGL_PLATFORM as the user set them (not what this machine chose): what another machine's
    processes (a Ray cluster's workers) should inherit; they choose for their own machine otherwise."""
    if _user_env is None:
        return {k: os.environ[k] for k in _VARS if k in os.environ}
    return dict(_user_env)


def gl_context(width: int, height: int):
    """A current-able GL context of the chosen backend. Not `mujoco.GLContext`: that class was fixed when mujoco
    was first imported, which a library user may have done before any backend was chosen."""
    backend = ensure_headless_gl()
    if backend == "egl":
        from mujoco.egl import GLContext
    elif backend == "osmesa":
        from mujoco.osmesa import GLContext
    else:  # the user's own choice (glfw, glx, ...): the class mujoco picked for it
        from mujoco import GLContext
    return GLContext(width, height)
