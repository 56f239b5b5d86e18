"""Which demonstrations a run learns from (config `demos`, `demos_n`), decided once: spec.resolve checks them
before any folder is made, train.py reads the file this module names."""

from __future__ import annotations

# Imports inside functions: the file reader (h5py) and the camera resolution, when a check or the cache needs them.

import hashlib
import json
import os
from pathlib import Path

from wsa_robot.config import RunConfig
from wsa_robot.errors import UserError

SCRIPTED = "scripted"  # `demos: scripted`: the task's controller records them into the run dir when it starts
SCRIPTED_N = 5  # demos recorded for `demos: scripted` with demos_n 0
RUN_FILE = "demos.hdf5"  # their file in the run dir


def scripted(cfg: RunConfig) -> bool:
    return cfg.demos == SCRIPTED


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
        return
    if not off_policy:
        raise UserError(f"demos need an off-policy learner (a replay buffer); algo={cfg.algo} has none: use algo=sac")
    if task.goal:
        raise UserError(f"task {task.name} learns with HER, which relabels goals; demos are not supported there")
    if scripted(cfg):
        if not has_expert:
            raise UserError(f"demos=scripted: task {task.name} has no scripted controller (envs/experts.py); "
                            "give a robomimic-format file: demos=FILE")
        return
    from wsa_robot.demos.robomimic_file import check_file

    check_file(demo_file(cfg, Path(".")), cameras, task.proprio_keys, cfg.demos_n, state)


def cache_dir() -> Path:
    """Where `demos: scripted` keeps what it recorded: $WSA_DEMOS_DIR, else ~/.cache/wsa-robot/demos."""
    if os.environ.get("WSA_DEMOS_DIR"):
        return Path(os.environ["WSA_DEMOS_DIR"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "wsa-robot" / "demos"


def cached_file(cfg: RunConfig) -> Path:
    """The cache file of the recording `demos: scripted` makes for this run: named by everything that decides
    it (task, cameras, image size, controller, gripper, control rate, reward, count, seed) and by the source of
    the controllers and the recorder, so a changed controller records afresh."""
    from wsa_robot.tokens import run_cameras

    cameras = run_cameras(cfg)  # what the recorder renders (demos/record.py)
    here = Path(__file__).resolve().parent
    code = hashlib.sha256(b"".join(p.read_bytes() for p in (here / "record.py", here.parent / "envs" / "experts.py")))
    what = {"task": cfg.task, "cameras": list(cameras), "image_size": cfg.image_size, "controller": cfg.controller,
            "gripper": cfg.gripper, "control_freq": cfg.control_freq, "reward_shaping": cfg.reward_shaping,
            "n": recorded_count(cfg), "seed": cfg.seed, "code": code.hexdigest()}
    key = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"{cfg.task.replace('/', '_')}-{recorded_count(cfg)}-seed{cfg.seed}-{key}.hdf5"
