"""Jobs: the runs of a plan (or a grid) as the executors start them, each a run dir with a step budget.

A job is new (no config.yaml yet), started (resumed from its checkpoint, with its own config and the budget) or
finished (its checkpoint reached the budget, or the target rule stopped it there for good: left alone). A started run whose saved config no longer matches its
plan entry is refused before any job starts, so an edited plan never continues a run under other settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from wsa_robot.config import RunConfig, load_config
from wsa_robot.core.errors import UserError
from wsa_robot.core.run_files import read_yaml_mapping
from wsa_robot.engine.plan import Plan, Schedule
from wsa_robot.engine.target import read_target
from wsa_robot.run.run_dir import RunDir, train_child_command

# keys that say how a run is scheduled and measured, not what learns
BOOKKEEPING = ("seed", "run_dir", "total_steps", "eval_every", "eval_episodes", "checkpoint_every",
               "checkpoint_minutes", "torch_threads", "device")


@dataclass(frozen=True)
class Job:
    """One run to train to `steps`: `new_run` are the `key=value`s of a new run (its budget among them); a run
    already started resumes with its own config (`wsa-robot train --resume`). `threads`: torch threads for
    either (None: the config's). `eval_every` and `eval_episodes`, how the run is measured, for an executor
    that reports the evals as they come and tells a run at its budget whose last eval a stop cut off (0: not
    told; the side-by-side executor reads them)."""
    name: str
    path: Path
    steps: int
    new_run: tuple[str, ...]
    threads: int | None = None
    eval_every: int = 0
    eval_episodes: int = 0

    @property
    def run(self) -> RunDir:
        return RunDir(self.path)

    def steps_done(self) -> int:
        return self.run.checkpoint_step() or 0

    def child_command(self) -> list[str]:
        """`wsa-robot train` for a child process: new, or `--resume` (train_child_command)."""
        return train_child_command(self.path, self.steps, list(self.new_run), self.threads)

    def as_dict(self) -> dict[str, Any]:
        """What a Ray worker needs to train it (train_job.train_job's arguments)."""
        return {"path": str(self.path), "steps": self.steps, "new_run": list(self.new_run), "threads": self.threads}


def _learning_settings(cfg: RunConfig) -> dict[str, Any]:
    return {k: v for k, v in cfg.model_dump().items() if k not in BOOKKEEPING}


def changed_settings(saved: RunConfig, wanted: RunConfig) -> list[str]:
    """Keys (dotted) whose values differ between two configs, bookkeeping keys aside."""
    a, b = _learning_settings(saved), _learning_settings(wanted)
    out = []
    for key in sorted(set(a) | set(b)):
        if isinstance(a.get(key), dict) and isinstance(b.get(key), dict):
            out += [f"{key}.{k}" for k in sorted(set(a[key]) | set(b[key])) if a[key].get(k) != b[key].get(k)]
        elif a.get(key) != b.get(key):
            out.append(key)
    return out


def check_started(job: Job) -> None:
    """A started run must hold the settings its entry asks for now (bookkeeping aside); keys the run never
    recorded were added to the schema after it started, and it keeps what it had. A UserError otherwise."""
    rd = job.run
    if not rd.config_file.exists():
        return
    wanted = load_config(list(job.new_run))
    recorded = set(read_yaml_mapping(rd.config_file))
    changed = [k for k in changed_settings(rd.read_config(), wanted) if k.split(".")[0] in recorded]
    if changed:
        raise UserError(f"run {job.path} was started with other settings than its plan entry ({', '.join(changed)}); "
                        "restore the entry, give it a new label, or delete the run dir")


def plan_jobs(plan: Plan, runs_root: Path, schedule: Schedule, common: list[str]) -> list[Job]:
    """One job per run of the plan: RUNS_ROOT/<label>-seed<seed>, told its eval schedule (the side-by-side
    executor reports the evals and resumes a run whose last eval a stop cut off)."""
    return [Job(run.name, runs_root / run.name, schedule.steps, tuple(run.config_overrides(schedule, common)),
                eval_every=schedule.eval_every, eval_episodes=schedule.eval_episodes)
            for run in plan.runs]


def unfinished(jobs: list[Job], log: Callable[[str], None] = print) -> list[Job]:
    """The jobs still short of their budget and not stopped at the target for good (target.py), each started one
    checked against its entry (all before any job starts); a line for each finished one."""
    todo = []
    for job in jobs:
        done = job.steps_done()
        if done >= job.steps:
            log(f"{job.name}: finished ({done} steps)")
        elif read_target(job.path) is not None:
            log(f"{job.name}: finished ({done} steps, stopped at the target)")
        else:
            todo.append(job)
    for job in todo:
        check_started(job)
    return todo
