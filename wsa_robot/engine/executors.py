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
from wsa_robot.engine.side_by_side import StopRule
from wsa_robot.engine.target import read_target
from wsa_robot.run.stopping import die_with_parent, sigterm_as_ctrl_c

EXECUTORS = ("local", "inprocess", "side-by-side", "ray")
STOPPING = ("local", "side-by-side")  # the executors that can stop a run at its evals (a stop rule, --target)
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
    """The line of a job that ended short of its budget; None if it reached it or the target rule stopped it
    there for good."""
    reached = job.steps_done()
    short = reached < job.steps and read_target(job.path) is None
    return f"{job.name} stopped at step {reached}; {AGAIN}" if short else None


@dataclass
class Local:
    """`wsa-robot train` per job in a child process, at most `parallel` at a time; output to logs/<job>.log.
    With a stop `rule`, a run it says is due is stopped (SIGTERM: a checkpoint) and checked, and resumed unless
    the check met the rule; a run the rule met is kept as it is."""
    logs: Path
    parallel: int = 1
    rule: StopRule | None = None

    def run(self, jobs: list[Job], say: Say) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        pending, running = [j for j in jobs if not self._kept(j, say)], []  # running: (job, process, log file)
        failed: list[str] = []
        with sigterm_as_ctrl_c() as terminated:
            try:
                while pending or running:
                    while pending and len(running) < self.parallel and not failed:
                        running.append(self._start(pending.pop(0), say))
                    if not running:
                        break
                    for item in list(running):
                        job, proc, log = item
                        if proc.poll() is None:  # before reading the evals: a run's last eval precedes its exit
                            if self.rule is not None and not failed and \
                                    self.rule.due(job.path, evals := job.run.read_evals()):
                                running.remove(item)
                                if self._stop_and_check(item, evals, say, failed):
                                    running.append(self._start(job, say))
                            continue
                        running.remove(item)
                        log.close()
                        failed += self._ended(job, proc.returncode)
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

    def _kept(self, job: Job, say: Say) -> bool:
        """Before the job starts: the rule decides what an earlier stop left undecided; True if it met the run."""
        if self.rule is None:
            return False
        self.rule.settle(job.path, say)
        if not self.rule.met(job.path):
            return False
        say(f"{job.name}: done at step {job.steps_done():,} (stopped at {self.rule.what}); kept as it is")
        return True

    def _stop_and_check(self, item: tuple[Job, subprocess.Popen, object], evals: list[dict], say: Say,
                        failed: list[str]) -> bool:
        """Stop the running job (SIGTERM: it checkpoints, then exits) and check it by the rule; True if it is
        to train on (the check did not meet the rule and its budget is not reached)."""
        job, proc, log = item
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        log.close()
        if proc.returncode not in (0, -signal.SIGTERM):  # -SIGTERM: it was ending on its own, checkpointed
            failed += self._ended(job, proc.returncode)
            return False
        assert self.rule is not None
        if self.rule.check(job.path, evals, say):
            say(f"{job.name}: reached {self.rule.what} at step {job.steps_done():,}")
            return False
        return job.steps_done() < job.steps

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
    """`side-by-side`: side_by_side.SideBySide (no deadline; the stop `rule`, if any) under the executors'
    contract."""
    logs: Path
    rule: StopRule | None = None

    def run(self, jobs: list[Job], say: Say) -> None:
        from wsa_robot.engine.side_by_side import SideBySide

        unit = getattr(self.rule, "unit", "episode")
        try:
            SideBySide(self.logs, rule=self.rule, unit=unit).run(jobs, say)
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


def check_executor(name: str, parallel: int, address: str | None, cpus: int | None, gpus: int | None,
                   target: float | None = None) -> None:
    """The executor options a user can get wrong, before anything starts (a UserError names the fix)."""
    if name not in EXECUTORS:
        raise UserError(f"unknown executor {name!r}; choose from: {', '.join(EXECUTORS)}")
    if target is not None and name not in STOPPING:
        raise UserError(f"--target needs --executor {' or '.join(STOPPING)}; {name} cannot stop a run at its "
                        "evals (drop --target or change --executor)")
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
             progress: bool = False, rule: StopRule | None = None) -> Executor:
    """The executor `name` (check_executor first); `rule` only on the STOPPING ones."""
    if rule is not None and name not in STOPPING:
        raise ValueError(f"the {name} executor cannot apply a stop rule")
    if name == "local":
        return Local(logs, parallel, rule)
    if name == "inprocess":
        return InProcess(progress)
    if name == "side-by-side":
        return AllAtOnce(logs, rule)
    return Ray(out_dir, resources, address, cpus, gpus)


def start(jobs: list[Job], runner: Executor, say: Say = print) -> None:
    """Train the unfinished jobs; finished ones are skipped, started ones checked against their entries first
    (jobs.unfinished), then resumed. Stopped when one did not reach its budget."""
    todo = unfinished(jobs, say)
    if todo:
        runner.run(todo, say)
