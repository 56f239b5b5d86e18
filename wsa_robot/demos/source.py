"""Which demonstrations a run learns from (config `demos`, `demos_n`), decided once: spec.resolve checks them
before any folder is made, train.py reads the file this module names."""

from __future__ import annotations

# Imports inside functions: the file reader (h5py) and the camera resolution, when a check or the cache needs them.

import hashlib
import json
import os
from pathlib import Path

from wsa_robot.config import RunConfig
from wsa_robot.core.errors import UserError

SCRIPTED = "scripted"  # `demos: scripted`: the task's controller records them into the run dir when it starts
SCRIPTED_N = 5  # demos recorded for `demos: scripted` with demos_n 0
RUN_FILE = "demos.hdf5"  # their file in the run dir
# the run settings a demo's actions and rewards depend on: a recording writes them as the file's attributes
# (demos/record.py) and a run must have the same ones. The image size is recorded too but need not match: the
# frames are resized to the run's (demos/replay.py). Files without them (robomimic's own) are not checked.
MATCHED = ("controller", "gripper", "control_freq", "reward_shaping")
TASKS_OWN = "task"  # a recorded setting left to the task (h5py stores no None)


def scripted(cfg: RunConfig) -> bool:
    return cfg.demos == SCRIPTED


def absolute_demos(cfg: RunConfig) -> RunConfig:
    """A new run's demo file as an absolute path, so a resume from another folder reads the same file."""
    if cfg.demos is None or scripted(cfg):
        return cfg
    return cfg.model_copy(update={"demos": str(Path(cfg.demos).expanduser().resolve())})


def demo_file(cfg: RunConfig, run_path: Path) -> Path:
    """The file a run's demos are read from: the run dir's own for `scripted`, else the configured path."""
    return Path(run_path) / RUN_FILE if scripted(cfg) else Path(str(cfg.demos)).expanduser()


def recorded_count(cfg: RunConfig) -> int:
    """How many demos `demos: scripted` records."""
    return cfg.demos_n or SCRIPTED_N


def check_demos(cfg: RunConfig, task, cameras: list[str], state: bool, off_policy: bool, has_expert: bool) -> None:
    """One line for demos a run cannot use, before any folder is made or env started. A file is opened and its
    keys checked against the run's cameras and proprio (the action size is checked once the env exists)."""
    if cfg.demos is None:
        if cfg.demos_n:
            raise UserError(f"demos_n={cfg.demos_n} without demos; add demos=FILE or demos=scripted")
        if off_policy and cfg.sac.demo_bc:
            raise UserError(f"sac.demo_bc={cfg.sac.demo_bc:g} clones demonstrations, and this run has none; "
                            "add demos=FILE or demos=scripted, or drop sac.demo_bc")
        if cfg.demo_starts:
            raise UserError(f"demo_starts={cfg.demo_starts:g} starts episodes from demonstration states, and this "
                            "run has none; add demos=FILE or demos=scripted, or set demo_starts=0")
        return
    if not off_policy:
        raise UserError(f"demos need an off-policy learner (a replay buffer); algo={cfg.algo} has none: use algo=sac")
    if task.goal:
        raise UserError(f"task {task.name} learns with HER, which relabels goals; demos are not supported there")
    if cfg.demo_starts and task.backend != "robosuite":
        raise UserError(f"demo_starts restores a simulator state, which only robosuite tasks can here; "
                        f"task {task.name} is {task.backend}: set demo_starts=0")
    if scripted(cfg):
        if not has_expert:
            raise UserError(f"demos=scripted: task {task.name} has no scripted controller (envs/robosuite/experts.py); "
                            "give a robomimic-format file: demos=FILE")
        return
    from wsa_robot.demos.robomimic_file import check_file, file_info

    path = demo_file(cfg, Path("."))
    check_file(path, cameras, task.proprio_keys, cfg.demos_n, state)
    check_settings(file_info(path)["attrs"], cfg, task, path)
    if cfg.demo_starts:
        from wsa_robot.demos.robomimic_file import read_states

        read_states(path, cfg.demos_n)  # one line if a demo has no states to start from


def check_settings(recorded: dict, cfg: RunConfig, task, path: Path) -> None:
    """One line if the file was recorded with another controller, gripper mode, control rate or reward than
    the run's (a setting left to the task counts as the task's value on both sides)."""
    theirs, ours = _settings(recorded, task), _settings({k: getattr(cfg, k) for k in MATCHED}, task)
    for key in MATCHED:
        if key in recorded and theirs[key] != ours[key]:
            raise UserError(f"{path} was recorded with {key}={theirs[key]}, this run has {key}={ours[key]}: set "
                            f"{key}={theirs[key]}, or record demos with the run's settings "
                            f"(wsa-robot demos record --task {task.name} {key}={ours[key]})")


def _settings(values: dict, task) -> dict[str, str]:
    own = {"control_freq": task.control_freq, "reward_shaping": task.reward_shaping}
    return {key: _spelled(own.get(key) if values.get(key) in (None, TASKS_OWN) else values[key]) for key in MATCHED}


def _spelled(value) -> str:
    """A setting as the config spells it, whether it came from YAML or from h5py (bytes, numpy scalars)."""
    if isinstance(value, bytes):
        value = value.decode()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return f"{value:g}"
    return str(value)


def cache_dir() -> Path:
    """Where `demos: scripted` keeps what it recorded: $WSA_DEMOS_DIR, else ~/.cache/wsa-robot/demos."""
    if os.environ.get("WSA_DEMOS_DIR"):
        return Path(os.environ["WSA_DEMOS_DIR"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "wsa-robot" / "demos"


def cached_file(cfg: RunConfig) -> Path:
    """The cache file of the recording `demos: scripted` makes for this run: named by everything that decides
    it (task, cameras, image size, controller, gripper, control rate, reward, count, seed) and by the source of
    the controllers and the recorder, so a changed controller records afresh."""
    from wsa_robot.envs.tasks import run_cameras

    cameras = run_cameras(cfg)  # what the recorder renders (demos/record.py)
    here = Path(__file__).resolve().parent
    experts = here.parent / "envs" / "robosuite" / "experts.py"
    code = hashlib.sha256(b"".join(p.read_bytes() for p in (here / "record.py", experts)))
    what = {"task": cfg.task, "cameras": list(cameras), "image_size": cfg.image_size, "controller": cfg.controller,
            "gripper": cfg.gripper, "control_freq": cfg.control_freq, "reward_shaping": cfg.reward_shaping,
            "n": recorded_count(cfg), "seed": cfg.seed, "code": code.hexdigest()}
    key = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"{cfg.task.replace('/', '_')}-{recorded_count(cfg)}-seed{cfg.seed}-{key}.hdf5"
