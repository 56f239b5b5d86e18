"""What a task is (one YAML in tasks/, or one a backend generates): the TaskSpec every layer reads.

A leaf beside tasks.py, which finds and loads the specs: the backends (envs/) build their envs from a TaskSpec
and generate some themselves (any ALE game, kitchen subsets), so they import this module, not tasks.py.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


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
