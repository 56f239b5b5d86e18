"""Where jobs train: `local` (child processes, one at a time unless told more: runs should not share a few
cores), `inprocess` (here, one after another), `side-by-side` (every job at once, the cores shared and a finished
run's handed to the others: side_by_side.py, the bench's runner, for a comparison whose runs must share the machine
alike) or `ray` (a local Ray or a cluster; ray_runner.py). Each raises
Stopped when a job did not reach its budget (Ctrl-C, SIGTERM, a failure); the same jobs started again resume.

Ctrl-C reaches a local child too (same process group): it checkpoints, and the executor stops after it;
SIGTERM to this process is passed on to the children.
"""

from __future__ import annotations

# Imports inside functions: ray (ray_runner) and the trainer (train_job: torch, the simulators), only in the
# executor that needs them.

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from wsa_robot.core.errors import UserError
from wsa_robot.engine.jobs import Job, unfinished
from wsa_robot.engine.plan import Resources
from wsa_robot.run.stopping import die_with_parent, sigterm_as_ctrl_c

EXECUTORS = ("local", "inprocess", "side-by-side", "ray")
Say = Callable[[str], None]


class Stopped(Exception):
    """Training stopped before the budget (Ctrl-C, SIGTERM, or a run that failed): a line per job that did."""

    def __init__(self, *lines: str) -> None:
        super().__init__(lines[0])
        self.lines = list(lines)


class Executor(Protocol):
    def run(self, jobs: list[Job], say: Say) -> None:
        """Train every job to its budget; Stopped if one did not get there."""


def _begin(job: Job) -> str:
    done = job.steps_done()
    return "resuming at " + str(done) if done else "starting"


AGAIN = "run the same command again to resume"


def _short(job: Job) -> str | None:
    """The line of a job that ended short of its budget; None if it reached it."""
    reached = job.steps_done()
    return f"{job.name} stopped at step {reached}; {AGAIN}" if reached < job.steps else None


@dataclass
class Local:
    """`wsa-robot train` per job in a child process, at most `parallel` at a time; output to logs/<job>.log."""
    logs: Path
    parallel: int = 1

    def run(self, jobs: list[Job], say: Say) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        pending, running = list(jobs), []  # running: (job, process, log file)
        failed: list[str] = []
        with sigterm_as_ctrl_c() as terminated:
            try:
                while pending or running:
                    while pending and len(running) < self.parallel and not failed:
                        running.append(self._start(pending.pop(0), say))
                    if not running:
                        break
                    for item in [r for r in running if r[1].poll() is not None]:
                        running.remove(item)
                        item[2].close()
                        failed += self._ended(item[0], item[1].returncode)
                    if running:
                        time.sleep(0.5)
            except KeyboardInterrupt:
                for job, proc, log in running:
                    if terminated and proc.poll() is None:
                        proc.send_signal(signal.SIGTERM)  # Ctrl-C reached it already; SIGTERM did not
                for job, proc, log in running:
                    proc.wait()
                    log.close()
                names = ", ".join(job.name for job, _, _ in running)
                raise Stopped(f"stopped during {names}; {AGAIN}") from None
        if failed:
            raise Stopped(*failed)

    def _start(self, job: Job, say: Say) -> tuple[Job, subprocess.Popen, object]:
        log_path = self.logs / f"{job.name}.log"
        say(f"{job.name}: {_begin(job)}; log {log_path}")
        log = open(log_path, "a")
        proc = subprocess.Popen(job.child_command(), stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=die_with_parent, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        return job, proc, log

    def _ended(self, job: Job, code: int) -> list[str]:
        if code != 0:
            return [f"{job.name} failed (exit {code}); see {self.logs / job.name}.log"]
        return [line] if (line := _short(job)) else []


@dataclass
class InProcess:
    """Every job trained here, one after another (train_job.py): no child processes, one Python to debug."""
    progress: bool = True

    def run(self, jobs: list[Job], say: Say) -> None:
        from wsa_robot.engine.train_job import train_job

        for job in jobs:
            say(f"{job.name}: {_begin(job)}")
            try:
                with sigterm_as_ctrl_c():
                    train_job(job.path, job.steps, list(job.new_run), job.threads, progress=self.progress)
            except KeyboardInterrupt:
                raise Stopped(f"stopped during {job.name}; {AGAIN}") from None
            if line := _short(job):
                raise Stopped(line)


@dataclass
class AllAtOnce:
    """`side-by-side`: side_by_side.SideBySide (no deadline, no stop rule) under the executors' contract."""
    logs: Path

    def run(self, jobs: list[Job], say: Say) -> None:
        from wsa_robot.engine.side_by_side import SideBySide

        try:
            SideBySide(self.logs).run(jobs, say)
        except KeyboardInterrupt:  # every run has checkpointed (SideBySide stops them first)
            raise Stopped(f"stopped during {', '.join(j.name for j in jobs)}; {AGAIN}") from None
        short = [line for j in jobs if (line := _short(j))]
        if short:
            raise Stopped(*short)


@dataclass
class Ray:
    """Every job a Ray Tune trial (ray_runner.py), `resources` each: a local Ray of `cpus`/`gpus`, or the
    cluster at `address` ($RAY_ADDRESS). Tune's own files go under `out_dir`/_tune."""
    out_dir: Path
    resources: Resources
    address: str | None = None
    cpus: int | None = None
    gpus: int | None = None

    def run(self, jobs: list[Job], say: Say) -> None:
        from rich.console import Console

        from wsa_robot.engine.ray_runner import run_jobs

        failed = run_jobs(jobs, self.out_dir, self.resources, address=self.address, cpus=self.cpus,
                          gpus=self.gpus, console=Console())
        if failed:
            raise Stopped(*failed)
        short = [line for j in jobs if (line := _short(j))]
        if short:
            raise Stopped(*short)


def check_executor(name: str, parallel: int, address: str | None, cpus: int | None, gpus: int | None) -> None:
    """The executor options a user can get wrong, before anything starts (a UserError names the fix)."""
    if name not in EXECUTORS:
        raise UserError(f"unknown executor {name!r}; choose from: {', '.join(EXECUTORS)}")
    if parallel < 1:
        raise UserError(f"--parallel takes a number of runs of at least 1; got {parallel}")
    if parallel > 1 and name != "local":
        raise UserError(f"--parallel sets how many local child processes train at once; drop it with --executor {name}")
    if name != "ray" and (address or cpus is not None or gpus is not None):
        raise UserError("--address, --cpus and --gpus are for --executor ray; drop them or add --executor ray")
    if (address or os.environ.get("RAY_ADDRESS")) and (cpus is not None or gpus is not None):
        raise UserError("--cpus/--gpus size a local Ray; a cluster (--address or RAY_ADDRESS) has its own resources")


def executor(name: str, logs: Path, out_dir: Path, resources: Resources, parallel: int = 1,
             address: str | None = None, cpus: int | None = None, gpus: int | None = None,
             progress: bool = False) -> Executor:
    """The executor `name` (check_executor first)."""
    if name == "local":
        return Local(logs, parallel)
    if name == "inprocess":
        return InProcess(progress)
    if name == "side-by-side":
        return AllAtOnce(logs)
    return Ray(out_dir, resources, address, cpus, gpus)


def start(jobs: list[Job], runner: Executor, say: Say = print) -> None:
    """Train the unfinished jobs; finished ones are skipped, started ones checked against their entries first
    (jobs.unfinished), then resumed. Stopped when one did not reach its budget."""
    todo = unfinished(jobs, say)
    if todo:
        runner.run(todo, say)
