"""The bench's target: a periodic eval at the target is checked over whole games before the run stops, and a
run that finishes while the bench stops it is not taken for a failure. Training processes are fakes here
(tests/test_benchmark.py trains real ones)."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wsa_robot.engine import side_by_side
from wsa_robot.engine.target import CHECKS_FILE, read_checks, read_target
from wsa_robot.studies import benchmark

FAKE_CHECKPOINT = "fake_checkpoint.json"  # the step a fake process "checkpointed"


def fake_checkpoint_step(self) -> int | None:
    file = self.path / FAKE_CHECKPOINT
    return json.loads(file.read_text())["step"] if file.exists() else None


class FakeTraining:
    """A `wsa-robot train` process of run `run_dir=`. `script[fusion]` says what it does: "evals" appends one
    eval (mean 20) a step of 1024 past its checkpoint at its second poll, then trains on until SIGTERM (a
    checkpoint 100 steps past its eval, exit 0); "budget" exits 0 at once at the budget, its last eval done;
    "ending" is ending on its own at the budget when SIGTERM comes, which kills it (-15); "last eval" is in its
    eval at the budget when SIGTERM comes (a checkpoint at the budget, no eval row, exit 0), and resumed there
    it runs that eval and exits 0."""

    commands: list[list[str]] = []
    script: dict[str, str] = {}
    budget = 4096

    def __init__(self, cmd, **_):
        FakeTraining.commands.append(cmd)
        self.run_dir = Path(next(a for a in cmd if a.startswith("run_dir=")).split("=", 1)[1])
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.kind = self.script[next(a for a in cmd if a.startswith("fusion=")).split("=", 1)[1]]
        self.returncode, self.polls, self.step = None, 0, fake_checkpoint_step(self) or 0
        if self.kind == "budget" or (self.kind == "last eval" and self.step == self.budget):
            self.evaluated(self.budget)
            self.checkpoint(self.budget)
            self.returncode = 0

    @property
    def path(self) -> Path:
        return self.run_dir

    def checkpoint(self, step: int) -> None:
        (self.run_dir / FAKE_CHECKPOINT).write_text(json.dumps({"step": step}))

    def evaluated(self, step: int, mean: float = 20.0) -> None:
        evals = self.run_dir / "evals.json"
        rows = json.loads(evals.read_text()) if evals.exists() else []
        evals.write_text(json.dumps(rows + [{"step": step, "mean_return": mean, "wall_s": 1.0}]))

    def poll(self):
        self.polls += 1
        if self.kind == "evals" and self.polls == 2:
            self.step += 1024
            self.evaluated(self.step)
        return self.returncode

    def send_signal(self, sig):
        assert sig == signal.SIGTERM
        if self.kind == "ending":
            self.evaluated(self.budget)
            self.checkpoint(self.budget)
            self.returncode = -signal.SIGTERM
        elif self.kind == "last eval":
            self.checkpoint(self.budget)
            self.returncode = 0
        else:
            self.checkpoint(self.step + 100)
            self.returncode = 0

    def wait(self):
        return self.returncode


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setattr(side_by_side.subprocess, "Popen", FakeTraining)
    monkeypatch.setattr(side_by_side.time, "sleep", lambda _s: None)
    monkeypatch.setattr(benchmark.RunDir, "checkpoint_step", fake_checkpoint_step)
    FakeTraining.commands = []
    return FakeTraining


def spec_of(tmp_path, fusions: str, target: float | None = 18, steps: int = 1_000_000):
    spec = benchmark.bench_spec("atari/Pong", steps, "1", fusions, 1024, 5, 3, None, tmp_path, [], target=target)
    spec.cores = 2
    return spec


def test_an_eval_at_the_target_stops_the_run_only_if_whole_games_from_its_checkpoint_hold_it(
        tmp_path, fakes, monkeypatch, capsys):
    """The first eval at 20 is luck: 3 games from the checkpoint score 10, so the run resumes; at the second
    the games score 19, and the run stops there. Both checks are kept in the run dir."""
    fakes.script = {"wsa": "evals"}
    games = iter([([10.0, 11.0, 9.0], 0), ([19.0, 19.0, 19.0], 1)])
    scored_at: list[int] = []
    monkeypatch.setattr(benchmark, "final_scores", lambda path, n: (
        scored_at.append(fake_checkpoint_step(benchmark.RunDir(path))), next(games))[1])
    spec = spec_of(tmp_path, "wsa")
    benchmark.train_all(spec, tmp_path / "logs")
    path = benchmark.run_path(spec, "wsa", 1)
    checks = read_checks(path)
    assert [(c["eval_step"], c["step"], c["mean_return"], c["held"]) for c in checks] == [
        (1024, 1124, 10.0, False), (2148, 2248, 19.0, True)]
    assert scored_at == [1124, 2248] and len(fakes.commands) == 2
    assert read_target(path) == checks[1] and checks[1]["stalled_games"] == 1
    said = capsys.readouterr().out
    assert "pong-wsa-seed1: 3 games: +10.0 ± 0.8, under 18; training on" in said
    assert "pong-wsa-seed1: reached the target at step 2,248" in said
    assert max(len(line) for line in said.splitlines() if line.startswith("pong-")) <= 80


def test_a_bench_resumed_checks_an_eval_at_the_target_that_an_older_bench_stopped_on(tmp_path, fakes,
                                                                                      monkeypatch, capsys):
    """A run dir whose last eval is at the target but unchecked (a stop came first, or an older bench stopped
    on the 5-game eval alone) is checked before it starts; a check that holds keeps the run as it is."""
    fakes.script = {"wsa": "evals"}
    monkeypatch.setattr(benchmark, "final_scores", lambda path, n: ([18.5] * n, 0))
    spec = spec_of(tmp_path, "wsa")
    path = benchmark.run_path(spec, "wsa", 1)
    path.mkdir(parents=True)
    (path / FAKE_CHECKPOINT).write_text(json.dumps({"step": 2_300_000}))
    (path / "evals.json").write_text(json.dumps([{"step": 2_300_000, "mean_return": 18.0, "wall_s": 1.0}]))
    assert benchmark.train_all(spec, tmp_path / "logs") == {}
    assert fakes.commands == [] and read_target(path)["mean_return"] == 18.5
    assert "pong-wsa-seed1: done at step 2,300,000 (stopped at the target)" in capsys.readouterr().out
    assert benchmark.train_all(spec, tmp_path / "logs") == {}  # checked once: the check is not repeated
    assert len(json.loads((path / CHECKS_FILE).read_text())) == 1


def test_an_eval_past_the_checkpoint_is_not_checked_at_start(tmp_path, fakes, monkeypatch, capsys):
    """A kill between an eval at the target and the next checkpoint lost the eval's steps: the resume drops that
    eval, so scoring the older checkpoint for it would record a check of an eval that never stood."""
    fakes.script = {"wsa": "budget"}
    monkeypatch.setattr(benchmark, "final_scores", lambda path, n: pytest.fail("scored an eval a kill lost"))
    spec = spec_of(tmp_path, "wsa", steps=FakeTraining.budget)
    path = benchmark.run_path(spec, "wsa", 1)
    path.mkdir(parents=True)
    (path / FAKE_CHECKPOINT).write_text(json.dumps({"step": 2048}))
    (path / "evals.json").write_text(json.dumps([{"step": 3072, "mean_return": 19.0, "wall_s": 1.0}]))
    benchmark.train_all(spec, tmp_path / "logs")
    assert read_checks(path) == [] and len(fakes.commands) == 1


def test_a_run_ending_on_its_own_as_the_bench_hands_it_more_cores_is_finished_not_failed(tmp_path, fakes,
                                                                                          capsys):
    """E2E ends at the budget; WSA is ending at the budget too when the bench sends it SIGTERM to restart it on
    both cores, and dies of the signal (-15) after its last checkpoint. The bench records it as finished and
    restarts nothing (it raised "training pong-wsa-seed1 failed (exit -15)")."""
    fakes.script = {"wsa": "ending", "e2e": "budget"}
    spec = spec_of(tmp_path, "wsa,e2e", target=None, steps=FakeTraining.budget)
    seconds = benchmark.train_all(spec, tmp_path / "logs")
    assert set(seconds) == {"pong-wsa-seed1", "pong-e2e-seed1"} and len(fakes.commands) == 2
    said = capsys.readouterr().out
    assert "pong-wsa-seed1: reached the budget at step 4,096" in said and "restarting" not in said


def test_a_run_stopped_in_its_last_eval_as_the_bench_hands_it_more_cores_is_resumed_for_that_eval(
        tmp_path, fakes, capsys):
    """E2E ends at the budget; WSA is in its eval at the budget when the bench sends it SIGTERM to restart it on
    both cores: its checkpoint is at the budget, its last eval is not. The bench resumes it, and the resume runs
    that eval (the bench took it for finished, and its curve ended an eval short)."""
    fakes.script = {"wsa": "last eval", "e2e": "budget"}
    spec = spec_of(tmp_path, "wsa,e2e", target=None, steps=FakeTraining.budget)
    benchmark.train_all(spec, tmp_path / "logs")
    path = benchmark.run_path(spec, "wsa", 1)
    assert len(fakes.commands) == 3 and benchmark.RunDir(path).read_evals()[-1]["step"] == FakeTraining.budget
    said = capsys.readouterr().out
    assert "pong-wsa-seed1: restarting on 2 threads" in said and "pong-wsa-seed1: step 4,096, eval" in said
    assert "pong-wsa-seed1: reached the budget at step 4,096" in said


BENCH_WITH_FAKE_RUNS = """
import json, sys
from pathlib import Path
from wsa_robot.engine.jobs import Job
from wsa_robot.studies import benchmark
from wsa_robot.cli.commands import main

RUN = '''
import json, os, pathlib, signal, sys, time
run = pathlib.Path(sys.argv[1])
run.mkdir(parents=True, exist_ok=True)
def checkpoint(*_):
    time.sleep(0.5)  # a checkpoint takes a while
    (run / "fake_checkpoint.json").write_text(json.dumps({"step": 100}))
    sys.exit(0)
signal.signal(signal.SIGTERM, checkpoint)
(run / "started").write_text(str(os.getpid()))
while True:
    time.sleep(0.05)
'''
Job.child_command = lambda self: [sys.executable, "-c", RUN, str(self.path)]
benchmark.RunDir.checkpoint_step = lambda self: (
    json.loads((self.path / "fake_checkpoint.json").read_text())["step"]
    if (self.path / "fake_checkpoint.json").exists() else None)
root = Path(sys.argv[1])
sys.exit(main(["bench", "--steps", "1000", "--runs-root", str(root), "--out", str(root / "out.json")]))
"""


@contextlib.contextmanager
def bench_with_fake_runs(root: Path):
    """A `wsa-robot bench` process whose two runs are fakes that save a checkpoint (step 100) on SIGTERM;
    yields it and the run dirs once both runs started. Whatever is left running is killed after."""
    proc = subprocess.Popen([sys.executable, "-c", BENCH_WITH_FAKE_RUNS, str(root)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    runs = [root / "pong-wsa-seed1", root / "pong-e2e-seed1"]
    try:
        end = time.time() + 120
        while time.time() < end and not all((r / "started").exists() for r in runs) and proc.poll() is None:
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()[0]
        yield proc, runs
    finally:
        for run in runs:
            if (run / "started").exists():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int((run / "started").read_text()), signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()


def test_sigterm_to_the_bench_alone_stops_its_runs_with_a_checkpoint_first(tmp_path):
    """`kill BENCH_PID` (a user, a scheduler, a session's end) reaches the bench and not its runs. The bench
    must stop them (SIGTERM: each saves a checkpoint), wait for that, say where each stopped and exit as Ctrl-C
    does. Before, it died at once and its runs trained on as orphans."""
    with bench_with_fake_runs(tmp_path) as (proc, runs):
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=60)[0]
        assert proc.returncode == 130, out
        for run in runs:  # saved before the bench exited, not after
            assert json.loads((run / FAKE_CHECKPOINT).read_text())["step"] == 100, out
            assert f"{run.name}: stopped at step 100" in out
        assert "the same command resumes the runs from there" in out and "Traceback" not in out


def test_runs_of_a_bench_killed_outright_checkpoint_and_stop(tmp_path):
    """SIGKILL gives the bench no say: the kernel sends its runs SIGTERM as it dies (a checkpoint, then exit)."""
    with bench_with_fake_runs(tmp_path) as (proc, runs):
        proc.kill()
        proc.wait(timeout=10)
        end = time.time() + 30
        while time.time() < end and not all((r / FAKE_CHECKPOINT).exists() for r in runs):
            time.sleep(0.1)
        for run in runs:
            assert json.loads((run / FAKE_CHECKPOINT).read_text())["step"] == 100
            pid = int((run / "started").read_text())
            assert wait_until_gone(pid, 10), f"{run.name} (pid {pid}) outlived its bench"


def wait_until_gone(pid: int, seconds: float) -> bool:
    end = time.time() + seconds
    while time.time() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_a_run_the_deadline_stops_in_its_last_eval_is_not_reported_as_finished(tmp_path, fakes, capsys):
    """The deadline's SIGTERM comes during the eval at the budget: the checkpoint is at the budget, the eval
    row is not. The bench says the run stopped and can be resumed (the next call resumes it for that eval);
    it said "reached the budget", while deciding otherwise when resuming."""
    fakes.script = {"wsa": "last eval"}
    spec = spec_of(tmp_path, "wsa", target=None, steps=FakeTraining.budget)
    spec.deadline_min = 1e-9
    benchmark.train_all(spec, tmp_path / "logs")
    said = capsys.readouterr().out
    assert "pong-wsa-seed1: stopped at step 4,096" in said and "this call); resumable" in said, said
    assert max(len(line) for line in said.splitlines() if line.startswith("pong-")) <= 80
    assert "reached the budget" not in said
    benchmark.train_all(spec, tmp_path / "logs")
    assert len(fakes.commands) == 2 and "pong-wsa-seed1: reached the budget at step 4,096" in capsys.readouterr().out


def test_a_stopped_bench_says_a_run_done_at_the_target_is_done_not_stopped(tmp_path, fakes, monkeypatch, capsys):
    """E2E reaches the target during the call, then the bench is stopped while WSA trains on. Its closing lines
    said "pong-e2e-seed1: stopped at step N" for both runs, as if E2E were resumable too."""
    fakes.script = {"wsa": "evals", "e2e": "evals"}
    monkeypatch.setattr(benchmark, "final_scores", lambda path, n: (
        [19.0] * n if "e2e" in Path(path).name else [10.0] * n, 0))
    sleeps = iter(range(8))  # the bench's 9th wait for its runs is where Ctrl-C comes
    monkeypatch.setattr(side_by_side.time, "sleep", lambda _s: next(sleeps, None) is not None or _interrupt())
    with pytest.raises(KeyboardInterrupt):
        benchmark.train_all(spec_of(tmp_path, "wsa,e2e"), tmp_path / "logs")
    said = capsys.readouterr().out
    closing = said[said.rindex("reached the target"):]
    assert "pong-e2e-seed1: done at step 1,124 (stopped at the target)" in closing, said
    assert "pong-e2e-seed1: stopped at step" not in closing, said
    assert "pong-wsa-seed1: stopped at step" in closing, said


def _interrupt():
    raise KeyboardInterrupt
