"""`wsa-robot demos record`: the task's scripted controller plays episodes; the successful ones are written in
robomimic's layout (demos/robomimic_file.py).

The controllers (envs/robosuite/experts.py) read object positions from the simulator: the file says PRIVILEGED in its
attributes. What they record is what a run's env shows (its cameras at its image size, upright, and the
proprio keys) with the run's controller, gripper mode and control rate, so an agent learns from the demos
exactly as from its own steps. Episode k of a recording is seeded `seeds.demo_seed(seed) + k`, a stream no
training or eval env uses: the same command writes the same demos.
"""

from __future__ import annotations

# Imports inside functions: the env stack (robosuite, mujoco), loaded when a recording starts.

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from wsa_robot.config import RunConfig
from wsa_robot.demos.robomimic_file import IMAGE_SUFFIX, OBJECT, ROBOSUITE_ENV_TYPE, Episode, write_demos
from wsa_robot.demos.source import MATCHED, TASKS_OWN
from wsa_robot.demos.starts import HELD  # an episode ends once the task has held solved this long
from wsa_robot.core.errors import UserError
from wsa_robot.core.seeds import demo_seed
from wsa_robot.core.task_spec import TaskSpec

PRIVILEGED = ("PRIVILEGED: the actions come from a scripted controller that reads object positions from the "
              "simulator (wsa_robot/envs/robosuite/experts.py); the observations are what the run's cameras and "
              "proprio show")
TRIES = 3  # attempts per demo asked for before a recording gives up

# the run settings a recording was made with, written as the file's attributes: a run must have the same ones
# (demos/source.py MATCHED, checked before it starts), except the image size (its frames are resized)
RUN_KEYS = (*MATCHED, "image_size")


@dataclass
class Recording:
    path: Path
    episodes: list[Episode]
    attempts: int
    seconds: float


def record(cfg: RunConfig, task: TaskSpec, n: int, out: Path, seed: int = 0,
           report: Callable[[str], None] | None = None) -> Recording:
    """Play the task's controller until `n` episodes succeed (at most TRIES * n attempts) and write them."""
    from wsa_robot.envs import make_env
    from wsa_robot.envs.backends import backend_for
    from wsa_robot.envs.tasks import run_cameras

    if n < 1:
        raise UserError(f"-n {n}: record at least one demo")
    if not backend_for(task).has_expert(task):
        raise UserError(f"task {task.name} has no scripted controller to record demos with "
                        "(envs/robosuite/experts.py has Lift, Stack, Door and PickPlaceCan); give demos recorded "
                        "elsewhere in robomimic's format")
    cameras = run_cameras(cfg, task)
    # the task's own horizon, whatever the run's: a demo is a whole solution (a short test run still gets one)
    env = make_env(task, cameras, cfg.image_size, seed=demo_seed(seed), horizon=task.horizon,
                   reward_shaping=cfg.reward_shaping, controller=cfg.controller, control_freq=cfg.control_freq,
                   gripper=cfg.gripper, state=True)  # the object state too, for the PRIVILEGED oracle
    started = time.time()
    episodes: list[Episode] = []
    attempt = 0
    try:
        while len(episodes) < n:
            if attempt >= TRIES * n:
                raise UserError(f"the scripted controller of {task.name} succeeded in {len(episodes)} of {attempt} "
                                f"episodes; fewer than the {n} asked for (a changed config? e.g. controller)")
            episode = play(env, cameras, task.proprio_keys, demo_seed(seed) + attempt)
            attempt += 1
            if episode.success:
                episodes.append(episode)
                if report:
                    report(f"demo {len(episodes)}/{n}: {episode.length} steps, return {float(np.sum(episode.rewards)):.1f}")
        raw = env.unwrapped._env
        write_demos(out, episodes, env_args(cfg, task, cameras, raw), attrs={
            "privileged": PRIVILEGED, "source": "scripted", "task": task.name, "seed": seed,
            "cameras": list(cameras), "proprio_keys": list(task.proprio_keys),
            **{key: _attr(getattr(cfg, key)) for key in RUN_KEYS},
            "horizon": task.horizon, "attempts": attempt,
            "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    finally:
        env.close()
    return Recording(out, episodes, attempt, time.time() - started)


def _attr(value):
    """h5py stores no None: the config's "the task's own" is written as the string "task"."""
    return TASKS_OWN if value is None else value


def play(env, cameras: list[str], proprio_keys: list[str], seed: int) -> Episode:
    """One episode of the env's scripted controller, from reset(seed) until the task has held solved for HELD
    steps or the horizon ends it. obs[key] holds one more entry than the actions (the last next observation)."""
    robosuite_env = env.unwrapped
    obs, _ = env.reset(seed=seed)
    keys = [c + IMAGE_SUFFIX for c in cameras] + list(proprio_keys) + [OBJECT]
    seen: dict[str, list[np.ndarray]] = {k: [] for k in keys}

    def observe(obs) -> None:
        for c in cameras:
            seen[c + IMAGE_SUFFIX].append(obs[c])
        for k in proprio_keys:
            seen[k].append(np.asarray(robosuite_env._raw[k], np.float64))
        seen[OBJECT].append(np.asarray(obs["state"], np.float64))

    observe(obs)
    actions, rewards, states = [], [], []
    held, info, done = 0, {"is_success": False}, False
    while not done and held < HELD:
        states.append(robosuite_env._env.sim.get_state().flatten())
        action = robosuite_env.expert_action()
        obs, reward, terminated, truncated, info = env.step(action)
        observe(obs)
        actions.append(action)
        rewards.append(reward)
        held = held + 1 if info.get("success_now") else 0
        done = terminated or truncated
    return Episode(actions=np.stack(actions), rewards=np.asarray(rewards), states=np.stack(states),
                   obs={k: np.stack(v) for k, v in seen.items()}, success=bool(info["is_success"]),
                   model_file=robosuite_env._env.sim.model.get_xml(), attrs={"seed": seed})


def env_args(cfg: RunConfig, task: TaskSpec, cameras: list[str], raw_env) -> dict:
    """robomimic's `env_args`: what robosuite.make needs to rebuild the env (robomimic's EnvRobosuite reads
    env_name, type and env_kwargs), plus this project's own settings under `wsa_robot`."""
    from wsa_robot.envs.robosuite.env import controller_config

    return {"env_name": task.env_id, "type": ROBOSUITE_ENV_TYPE,
            "env_kwargs": {"robots": [task.robot], "controller_configs": controller_config(task.robot, cfg.controller),
                           "reward_shaping": bool(raw_env.reward_shaping), "control_freq": raw_env.control_freq,
                           "horizon": raw_env.horizon, "has_renderer": False, "has_offscreen_renderer": True,
                           "ignore_done": False, "use_object_obs": False, "use_camera_obs": True,
                           "camera_names": list(cameras), "camera_heights": cfg.image_size,
                           "camera_widths": cfg.image_size, "camera_depths": False},
            "wsa_robot": {"task": task.name, "gripper": cfg.gripper, "controller": cfg.controller}}
