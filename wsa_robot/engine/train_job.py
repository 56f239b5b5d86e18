"""Train one job in this process as its child command would (`wsa-robot train`, or `--resume` for a run already
started): the in-process executor runs it here and every Ray worker runs it (ray_runner.py), so a job trains the
same whichever executor starts it."""

from __future__ import annotations

# Imports inside functions: torch, the simulators and SB3 (run.train), loaded by the process that trains, not by
# the one that reads a plan; and the GL backend is chosen before the first of them imports mujoco.

from pathlib import Path
from typing import Any


def train_job(path: str | Path, steps: int, new_run: list[str], threads: int | None = None,
              progress: bool = False) -> dict[str, Any]:
    """Train the run in `path` to `steps`: on from its checkpoint with its own config, or new with the `new_run`
    overrides; nothing when it is there already. Returns its steps and its latest eval."""
    from wsa_robot.envs.gl import choose_gl_backend

    choose_gl_backend()  # a Ray worker is a new process: before train() imports mujoco
    from wsa_robot.run.run_dir import RunDir
    from wsa_robot.run.run_lock import release_writer_lock

    path = Path(path)
    run = RunDir(path)
    threads_set = [] if threads is None else [f"torch_threads={threads}"]
    if (run.checkpoint_step() or 0) < steps:
        try:
            if run.config_file.exists():
                _resume(run, steps, threads_set, progress)
            else:
                _start(path, [*new_run, f"run_dir={path}", *threads_set], progress)
        finally:
            release_writer_lock(path.resolve())
    evals = run.read_evals()
    last = evals[-1] if evals else {}
    return {"num_timesteps": run.checkpoint_step() or 0, "mean_return": last.get("mean_return"),
            "success_rate": last.get("success_rate")}


def _resume(run, steps: int, threads_set: list[str], progress: bool) -> None:
    from wsa_robot.run.resume import resume_config
    from wsa_robot.run.run_lock import hold_writer_lock
    from wsa_robot.run.train import train

    hold_writer_lock(run.path)  # before resume_config writes: one writer per run
    pipe, events = resume_config(run, [f"total_steps={steps}", *threads_set], [], [])
    train(run, pipe, resume=True, progress=progress, events=events)


def _start(path: Path, overrides: list[str], progress: bool) -> None:
    from wsa_robot.config import load_config
    from wsa_robot.demos.source import absolute_demos
    from wsa_robot.run.pipeline import plan
    from wsa_robot.run.run_dir import new_run_dir
    from wsa_robot.run.spec import resolve
    from wsa_robot.run.train import train

    cfg = absolute_demos(load_config(overrides))
    spec = resolve(cfg)  # every check before the folder is made
    run = new_run_dir(cfg)
    try:
        train(run, plan(spec), progress=progress)
    except BaseException:
        run.discard_if_unstarted()
        raise
