"""Task specs: one YAML per task in tasks/, validated into a TaskSpec."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from wsa_robot.errors import UserError
from wsa_robot.resources import data_dir


class FreeCamera(BaseModel):
    """A camera the task places itself (the model has no good one there): fixed, looking at `lookat`, or
    following the body `track_body`. Distances in metres, angles in degrees, as MuJoCo's viewer."""
    model_config = ConfigDict(extra="forbid")

    distance: float
    azimuth: float
    elevation: float
    lookat: list[float] | None = None
    track_body: str | None = None


class TaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    backend: str
    env_id: str
    robot: str = "Panda"
    cameras: list[str]
    available_cameras: list[str]
    horizon: int
    control_freq: int = 20
    reward_shaping: bool = True
    success: str | None = None  # the env's success check; None: the task has none (Atari), shown as "-"
    proprio_keys: list[str] = []
    description: str = ""
    env_kwargs: dict[str, Any] = {}  # extra keyword arguments for the backend's env (atari: gym.make)
    config: dict[str, Any] = {}  # run-config defaults for this task; the user's key=value overrides win
    # goal-conditioned: the observation holds `achieved_goal` and `desired_goal` vectors and the env a
    # compute_reward (gymnasium-robotics Fetch); SAC then learns with HER (stable-baselines3's HerReplayBuffer)
    goal: bool = False
    free_cameras: dict[str, FreeCamera] = {}  # cameras placed by the task, beside the model's own


def task_files() -> dict[str, Path]:
    """Task name -> YAML path, e.g. "Lift" or "atari/Pong" for tasks/atari/Pong.yaml."""
    root = data_dir("tasks")
    return {p.relative_to(root).with_suffix("").as_posix(): p for p in sorted(root.rglob("*.yaml"))}


def _generated(name: str) -> TaskSpec | None:
    """Tasks made on the fly from a prefix: `atari/<Game>` for any ALE game without its own YAML,
    `kitchen/<subtask>[+<subtask>...]` / `kitchen/all` for any FrankaKitchen subset (envs/gym_robotics.py)."""
    if name.startswith("atari/"):
        from wsa_robot.envs.atari import game_task

        return game_task(name.split("/", 1)[1])
    if name.startswith("kitchen/"):
        from wsa_robot.envs.gym_robotics import kitchen_task

        return kitchen_task(name.split("/", 1)[1])
    return None


def load_task(name: str) -> TaskSpec:
    files = task_files()
    if name not in files:
        task = _generated(name)
        if task is not None:
            return task
        close = difflib.get_close_matches(name, files, n=3) or sorted(files)
        raise UserError(f"unknown task {name!r}; choose one of: {', '.join(close)} (see `wsa-robot tasks`)")
    return TaskSpec(**yaml.safe_load(files[name].read_text()))


def check_cameras(task: TaskSpec, cameras: list[str]) -> list[str]:
    """The cameras, after checking each exists in the task (before any env process is started)."""
    for cam in cameras:
        if cam not in task.available_cameras:
            raise UserError(f"unknown camera {cam!r} for task {task.name}; available: "
                            f"{', '.join(task.available_cameras)}")
    return cameras
