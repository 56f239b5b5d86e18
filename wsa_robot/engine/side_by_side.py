"""The side-by-side executor: every job in its own child process (`wsa-robot train`) at once, so the runs of a
comparison share the machine alike (the bench: `wsa-robot bench`).

The runs training share `cores` (torch threads each); when one finishes, those still training are restarted on
the cores it freed (SIGTERM: a checkpoint, then a resume on more threads). `deadline_min` stops every run still
training at that time with SIGTERM (a checkpoint, then exit). A stop rule (target.py's TargetStop) ends a run
before its budget for good: a run it says is due is stopped, checked, and resumed unless the check met the rule.
A run finished (at its budget with its last eval, or met by the rule) is kept as it is, never resumed (a resume
would add its start-up to its wall time). Ctrl-C or SIGTERM stops every run with a checkpoint first, says where
each stands and raises KeyboardInterrupt; the same jobs started again resume. A run never outlives the process
that started it (even one killed). A failed run raises RuntimeError, after stopping the others.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from wsa_robot.engine.jobs import Job
from wsa_robot.run.run_dir import RunDir
from wsa_robot.run.stopping import die_with_parent, sigterm_as_ctrl_c

Say = Callable[[str], None]


class StopRule(Protocol):
    """When a run stops before its budget for good (target.TargetStop)."""
    what: str  # the words for it: "reached <what>", "stopped at <what>"

    def met(self, path: Path) -> bool:
        """The run stopped for good under the rule: never resumed."""

    def settle(self, path: Path, say: Say) -> None:
        """Before the run starts: decide what an earlier stop left undecided."""

    def due(self, path: Path, evals: list[dict]) -> bool:
        """The run, still training, is to be stopped and checked."""

    def check(self, path: Path, evals: list[dict], say: Say) -> bool:
        """The run stopped at its checkpoint: True if it met the rule there."""


def threads_each(cores: int, runs: int) -> int:
    """Torch threads per run when `runs` train side by side on `cores`."""
    return max(1, cores // max(1, runs))


@dataclass
class _Process:
    """One training process of a run: when it started and ended (None: still running, as far as the executor
    stopped it), on how many threads, and whether the executor sent it SIGTERM."""
    proc: subprocess.Popen
    started: float
    threads: int
    ended: float | None = None
    signalled: bool = False

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.signalled = True
            self.proc.send_signal(signal.SIGTERM)  # the run checkpoints, then exits


def _check_exit(name: str, p: _Process, logs: Path) -> None:
    """A failed run raises. A run sent SIGTERM may die of it rather than checkpoint and exit 0: the signal came
    as it was ending on its own, after its last checkpoint, and that checkpoint stands."""
    if p.proc.returncode != 0 and not (p.signalled and p.proc.returncode == -signal.SIGTERM):
        raise RuntimeError(f"training {name} failed (exit {p.proc.returncode}); see {logs / name}.log")


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


@dataclass
class SideBySide:
    """Every job at once in a child process, `cores` shared among those training, a finished run's cores handed
    to the others; optionally a deadline and a stop rule. `unit` names an eval's episode ("game" for Atari).
    `run` returns the seconds each run trained in this call (its processes' wall, start-up and evals included)."""
    logs: Path
    cores: int = os.cpu_count() or 1
    deadline_min: float | None = None
    rule: StopRule | None = None
    unit: str = "episode"

    def run(self, jobs: list[Job], say: Say) -> dict[str, float]:
        self.logs.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as files, sigterm_as_ctrl_c():
            runs = _Runs(self, {j.name: j for j in jobs}, files, say)
            todo: list[tuple[Job, str]] = []  # with how it begins
            for job in jobs:
                if self.rule is not None:
                    self.rule.settle(job.path, say)
                progress = runs.progress(job.name)
                if progress[2]:
                    say(runs.standing(job.name, progress) + "; kept as it is")
                else:
                    todo.append((job, f"resuming at step {progress[0]:,}" if job.run.config_file.exists()
                                 else "new run"))
            threads = threads_each(self.cores, len(todo))
            if todo:  # the paths once, so each run's line fits 80 columns
                say(f"each run's output: {self.logs}/<run>.log")
            for job, begin in todo:
                say(f"{job.name}: {begin}, to {job.steps:,} agent steps on {threads} thread{'s' * (threads > 1)}")
                runs.start(job.name, threads)
            try:
                return runs.wait()
            except KeyboardInterrupt:  # Ctrl-C, or SIGTERM to this process alone: the runs checkpoint, then stop
                runs.stop_all()
                for name in runs.procs:
                    say(runs.standing(name, runs.progress(name)))
                say("the same command resumes the runs from there")
                raise
            finally:
                runs.stop_all()  # a failed run stops the others (SIGTERM: they checkpoint first)


class _Runs:
    """The training processes of one call, by run name, and the seconds of the processes each run had before
    its current one (a run's seconds in this call are the sum of its processes)."""

    def __init__(self, how: SideBySide, jobs: dict[str, Job], files: contextlib.ExitStack, say: Say) -> None:
        self.how, self.jobs, self.files, self.say = how, jobs, files, say
        self.rule = how.rule
        self.procs: dict[str, _Process] = {}
        self.earlier_s: dict[str, float] = {}

    def progress(self, name: str) -> tuple[int, bool, bool]:
        """The run's checkpoint step, whether the rule met it, and whether the run is finished: met, or at the
        step budget with its last eval (a stop during that eval leaves it owed; a resume runs it)."""
        job = self.jobs[name]
        step = job.steps_done()  # one read of the checkpoint's zip
        met = self.rule is not None and self.rule.met(job.path)
        return step, met, met or (step >= job.steps and not job.run.eval_owed(job.eval_every, step))

    def standing(self, name: str, progress: tuple[int, bool, bool]) -> str:
        """Where a run stands: finished, which the next call keeps as it is, or stopped (resumable)."""
        step, met, finished = progress
        if not finished:
            return f"{name}: stopped at step {step:,}"
        return f"{name}: done at step {step:,}" + (f" (stopped at {self.rule.what})" if met else "")

    def finished(self, name: str) -> bool:
        return self.progress(name)[2]

    def start(self, name: str, threads: int) -> None:
        """Start (or restart) the run's process on `threads`."""
        if name in self.procs:
            self.earlier_s[name] = self.seconds(name)
        log = self.files.enter_context(open(self.how.logs / f"{name}.log", "a"))
        command = dataclasses.replace(self.jobs[name], threads=threads).child_command()
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.procs[name] = _Process(proc, time.time(), threads)

    def seconds(self, name: str) -> float:
        p = self.procs[name]
        return self.earlier_s.get(name, 0.0) + (p.ended or time.time()) - p.started

    def stop(self, name: str) -> None:
        """SIGTERM the run's process and wait for its checkpoint; its seconds stop counting."""
        p = self.procs[name]
        p.terminate()
        p.proc.wait()
        p.ended = p.ended or time.time()
        _check_exit(name, p, self.how.logs)

    def stop_all(self) -> None:
        for p in self.procs.values():
            p.terminate()
            p.proc.wait()

    def hand_over(self, running: list[str]) -> None:
        """Restart the `running` runs with the cores shared among them alone, where that means more threads.
        A run that reached its budget while it was being stopped is left stopped (its exit is recorded next)."""
        threads = threads_each(self.how.cores, len(running))
        for name in running:
            p = self.procs[name]
            if threads <= p.threads or p.proc.poll() is not None:
                continue
            self.stop(name)
            if not self.finished(name):
                self.say(f"{name}: restarting on {threads} threads (cores freed by a finished run)")
                self.start(name, threads)

    def wait(self) -> dict[str, float]:
        """Seconds each run trained; at the deadline every one still running gets SIGTERM (checkpoint, then
        stop). A run the rule says is due is stopped and checked: it stays stopped if the check met the rule,
        else it resumes. Nothing else happens while a check runs."""
        deadline_min, say = self.how.deadline_min, self.say
        deadline = time.time() + 60 * deadline_min if deadline_min else None
        stopping = False  # past the deadline: no run is restarted
        seconds: dict[str, float] = {}
        evals_seen = {name: len(self.jobs[name].run.read_evals()) for name in self.procs}
        while len(seconds) < len(self.procs):
            finished = False
            for name, p in list(self.procs.items()):
                if name in seconds:
                    continue
                path = self.jobs[name].path
                exited = p.proc.poll() is not None  # before reading the evals: a run's last eval precedes its exit
                evals = RunDir(path).read_evals()
                evals_seen[name] = self.say_new_evals(name, evals, evals_seen[name])
                if not exited:
                    if self.rule is not None and not stopping and self.rule.due(path, evals):
                        self.stop(name)
                        if not self.rule.check(path, evals, say) and not self.finished(name):
                            self.start(name, p.threads)
                    continue
                p.ended = p.ended or time.time()
                seconds[name] = self.seconds(name)
                _check_exit(name, p, self.how.logs)
                step, met, done = self.progress(name)
                finished = finished or done
                why = (f"reached {self.rule.what}" if met else "reached the budget") if done else "stopped"
                say(f"{name}: {why} at step {step:,} ({_minutes(seconds[name])} this call)" +
                    ("" if done else "; resumable"))  # 80 columns with any game's name
            if deadline and time.time() > deadline:
                say(f"deadline of {deadline_min:g} min: stopping the runs still training (they checkpoint first)")
                for p in self.procs.values():
                    p.terminate()
                deadline, stopping = None, True
            elif finished and not stopping:
                self.hand_over([name for name in self.procs if name not in seconds])
            time.sleep(2)
        return seconds

    def say_new_evals(self, name: str, rows: list[dict], seen: int) -> int:
        """One line per eval row the run appended since `seen` rows, with the rate since the row before (the
        run's current pace, not its average over resumes at other settings); returns the count now."""
        episodes, unit = self.jobs[name].eval_episodes, self.how.unit
        for i in range(seen, len(rows)):
            row, before = rows[i], rows[i - 1] if i else {"step": 0, "wall_s": 0.0}
            span = (row.get("wall_s") or 0.0) - (before.get("wall_s") or 0.0)
            rate = f", {(row['step'] - before['step']) / span:.0f} steps/s" if span > 0 else ""
            self.say(f"{name}: step {int(row['step']):,}, eval {float(row['mean_return']):+.1f} "
                     f"over {episodes} {unit}{'s' if episodes != 1 else ''}{rate}")
        return len(rows)
