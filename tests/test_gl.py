"""Choosing MuJoCo's GL backend: the user's MUJOCO_GL wins, else EGL, then OSMesa; none is a one-line error."""

import ctypes.util
import os

import pytest

from wsa_robot.envs import gl
from wsa_robot.core.errors import UserError


@pytest.fixture
def fresh(monkeypatch):
    """A process that has not chosen yet, with neither variable set."""
    monkeypatch.setattr(gl, "_user_env", None)
    for var in ("MUJOCO_GL", "PYOPENGL_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def libraries(monkeypatch, *present):
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"lib{name}.so" if name in present else None)


def test_egl_first_then_osmesa(fresh):
    libraries(fresh, "EGL", "OSMesa")
    assert gl.choose_gl_backend() == "egl" and os.environ["PYOPENGL_PLATFORM"] == "egl"
    fresh.delenv("MUJOCO_GL")
    fresh.delenv("PYOPENGL_PLATFORM")
    libraries(fresh, "OSMesa")
    assert gl.choose_gl_backend() == "osmesa" and os.environ["PYOPENGL_PLATFORM"] == "osmesa"
    assert gl.user_gl_env() == {}  # this process chose; the user set nothing


@pytest.mark.parametrize("theirs", ["osmesa", "glfw"])
def test_the_users_choice_wins_and_travels(fresh, theirs):
    libraries(fresh, "EGL", "OSMesa")
    fresh.setenv("MUJOCO_GL", theirs)
    assert gl.choose_gl_backend() == theirs and os.environ["MUJOCO_GL"] == theirs
    # PyOpenGL is pointed at a headless platform only for a headless backend
    assert os.environ.get("PYOPENGL_PLATFORM") == (theirs if theirs == "osmesa" else None)
    assert gl.user_gl_env()["MUJOCO_GL"] == theirs


def test_no_headless_library(fresh):
    libraries(fresh)
    assert gl.choose_gl_backend() is None and "MUJOCO_GL" not in os.environ  # Atari needs none
    with pytest.raises(UserError, match="apt-get install libegl1"):
        gl.ensure_headless_gl()
