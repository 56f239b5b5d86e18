"""Pick a headless OpenGL backend for MuJoCo before it is imported: EGL, then OSMesa, unless the user chose."""

from __future__ import annotations

import ctypes.util
import os

from wsa_robot.errors import UserError

_LIBS = {"egl": "EGL", "osmesa": "OSMesa"}


def ensure_headless_gl() -> str:
    """Set MUJOCO_GL (and PYOPENGL_PLATFORM) to a backend whose library is present; return its name."""
    chosen = os.environ.get("MUJOCO_GL")
    if chosen:
        os.environ.setdefault("PYOPENGL_PLATFORM", chosen if chosen in _LIBS else "")
        return chosen
    for backend, lib in _LIBS.items():
        if ctypes.util.find_library(lib):
            os.environ["MUJOCO_GL"] = backend
            os.environ.setdefault("PYOPENGL_PLATFORM", backend)
            return backend
    raise UserError(
        "no headless OpenGL found for MuJoCo rendering; install one: "
        "`apt-get install libegl1 libgl1` (EGL) or `apt-get install libosmesa6` (OSMesa)"
    )
