"""The engine of many runs (engine/): `wsa-robot plan` trains a plan's runs in process, resumes and skips them
as the local executor does (tests/test_learning.py runs that one), refuses an edited entry before any run
starts, and its option mistakes are one line, exit 2."""

import json
from pathlib import Path

import pytest

from helpers import one_line_error, FakeProcess

TINY = ["horizon=20", "sac.learning_starts=20", "sac.batch_size=8", "sac.net_arch=16,16", "fusion_dim=16",
        "torch_threads=1"]
PLAN = "task: Lift\nruns:\n  - label: oracle\n    encoders: [state]\n    seeds: [0]\n"


def plan_argv(tmp: Path, steps: int, *extra: str) -> list[str]:
    return ["plan", str(tmp / "plan.yaml"), "--runs-root", str(tmp / "runs"), "--steps", str(steps),
            "--eval-every", "30", "--eval-episodes", "2", "--out", str(tmp / "out.json"), *extra, *TINY]


def test_a_plan_trains_in_process_resumes_and_reports(tmp_path, capsys):
    from wsa_robot.cli.commands import main

    (tmp_path / "plan.yaml").write_text(PLAN)
    assert main(plan_argv(tmp_path, 30, "--executor", "inprocess")) == 0
    assert "oracle-seed0: starting" in capsys.readouterr().out
    assert main(plan_argv(tmp_path, 60, "--executor", "inprocess")) == 0  # a larger budget: resumed
    assert "oracle-seed0: resuming at 30" in capsys.readouterr().out
    row, = json.loads((tmp_path / "out.json").read_text())["runs"]
    assert row["label"] == "oracle" and row["steps_done"] == 60 and [p["steps"] for p in row["curve"]] == [30, 60]
    assert (tmp_path / "out.png").exists()
    assert main(plan_argv(tmp_path, 60, "--executor", "inprocess")) == 0
    assert "oracle-seed0: finished (60 steps)" in capsys.readouterr().out


def test_an_edited_entry_is_refused_before_any_run_starts(tmp_path, monkeypatch):
    """The second run was started under other settings: the first, new, must not start either."""
    from wsa_robot.config import load_config
    from wsa_robot.core.errors import UserError
    from wsa_robot.engine import executors
    from wsa_robot.engine.jobs import plan_jobs
    from wsa_robot.engine.plan import Schedule, read_plan
    from wsa_robot.run.run_dir import RunDir

    (tmp_path / "plan.yaml").write_text(PLAN + "  - label: other\n    encoders: [state]\n    seeds: [0]\n")
    plan, schedule = read_plan(tmp_path / "plan.yaml"), Schedule(60, 30, 2)
    started = tmp_path / "runs" / "other-seed0"
    started.mkdir(parents=True)
    RunDir(started).write_config(load_config(["task=Lift", "encoders=state", "sac.n_steps=5", *TINY]))
    monkeypatch.setattr(executors.subprocess, "Popen", lambda *a, **k: pytest.fail("a run started"))
    with pytest.raises(UserError, match="other-seed0 was started with other settings.*sac.n_steps"):
        executors.start(plan_jobs(plan, tmp_path / "runs", schedule, TINY), executors.Local(tmp_path / "logs"))


@pytest.mark.parametrize("extra, match", [
    (["--executor", "slurm"], "unknown executor 'slurm'; choose from: local, inprocess, side-by-side, ray"),
    (["--executor", "inprocess", "--parallel", "2"], "--parallel sets how many local child processes"),
    (["--address", "10.0.0.1:6379"], "--address, --cpus and --gpus are for --executor ray"),
    (["--executor", "ray", "--address", "10.0.0.1:6379", "--cpus", "2"], "--cpus/--gpus size a local Ray"),
])
def test_executor_options_a_user_can_get_wrong_are_one_line(tmp_path, capsys, extra, match):
    (tmp_path / "plan.yaml").write_text(PLAN)
    one_line_error(capsys, plan_argv(tmp_path, 30, *extra), match)


@pytest.mark.parametrize("text, match", [
    ("task: Lift\nrun:\n  - label: a\n", "unknown plan key 'run'; did you mean runs?"),
    ("task: Lift\nruns:\n  - label: a\nresources: {cpus: 2}\n", "bad resources"),
    ("task: Lift\nruns: [\n", "is not valid YAML"),
    ("task: Lift\nruns:\n  - label: a\n    overrides: [no_such_key=1]\n", "run a-seed0: unknown"),
    ("task: Lift\nruns:\n  - label: a\n    seeds: 3\n", "seeds is a list of integers"),
    ("task: Lift\nruns:\n  - label: a\n    overrides: sac.n_steps=3\n", "overrides is a list of key=value"),
    ("task: Lift\nruns:\n  - label: a\n    encoders: {ae: 1}\n", "encoders is a name or a list"),
    ("task: Lift\nruns: {a: 1}\n", "`runs` a list of entries"),
])
def test_plan_file_mistakes_are_one_line(tmp_path, capsys, text, match):
    (tmp_path / "plan.yaml").write_text(text)
    one_line_error(capsys, plan_argv(tmp_path, 30), match)
    assert not (tmp_path / "runs").exists()  # decided before anything was made


def test_a_missing_plan_file_says_where_to_look(tmp_path, capsys):
    one_line_error(capsys, ["plan", str(tmp_path / "nope.yaml")], "plan file")


def test_every_shipped_plan_reads():
    """The plans under configs/ (learning plans, the encoder-set comparison) parse as the engine reads them, and
    so do the bench specs (bench_*.yaml, `wsa-robot bench --plan`)."""
    from wsa_robot.engine.plan import read_plan
    from wsa_robot.studies.benchmark import read_bench_file

    root = Path(__file__).resolve().parents[1] / "configs"
    benches = sorted(root.glob("bench_*.yaml"))
    plans = [p for p in sorted(root.glob("*.yaml")) if p.name != "default.yaml" and p not in benches]
    assert any(p.name == "encoder_sets.yaml" for p in plans) and any(p.name == "bench_pong.yaml" for p in benches)
    for path in benches:
        assert read_bench_file(path)["task"], path.name
    for path in plans:
        plan = read_plan(path)
        assert plan.runs and len({r.name for r in plan.runs}) == len(plan.runs), path.name


def test_a_plan_trains_on_a_local_ray_from_a_relative_runs_root(in_tmp, capsys, monkeypatch):
    """The Ray executor: its workers run elsewhere, so paths reach them (and Tune's storage) absolute."""
    import shutil
    import tempfile

    from wsa_robot.cli.commands import main

    tag = tempfile.mkdtemp(prefix="wsa-ray-", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    monkeypatch.setenv("RAY_TMPDIR", tag)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    Path("plan.yaml").write_text(PLAN)
    try:
        argv = ["plan", "plan.yaml", "--runs-root", "runs", "--steps", "30", "--eval-every", "30", "--eval-episodes",
                "2", "--out", "out.json", "--executor", "ray", "--cpus", "1", *TINY]
        assert main(argv) == 0, capsys.readouterr()
    finally:
        shutil.rmtree(tag, ignore_errors=True)
    row, = json.loads(Path("out.json").read_text())["runs"]
    assert row["steps_done"] == 30 and row["run"] == "runs/oracle-seed0"


def test_a_sweep_grid_trains_on_the_in_process_executor_too(in_tmp, capsys):
    """A grid is the engine's too: `wsa-robot sweep --executor inprocess` trains its trials here, no Ray, into
    the same run dirs and report; a second call skips them."""
    import sys

    from wsa_robot.cli.commands import main

    Path("tiny.yaml").write_text("name: tiny\nbase: {task: Lift, encoders: [state], total_steps: 30, horizon: 20, "
                                 "eval_every: 30, eval_episodes: 1, checkpoint_every: 30, fusion_dim: 16, "
                                 "sac: {learning_starts: 20, batch_size: 8, net_arch: [16, 16]}}\n"
                                 "grid: {fusion: [wsa, fix]}\n")
    assert main(["sweep", "tiny.yaml", "--executor", "inprocess"]) == 0, capsys.readouterr()
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()
    root = in_tmp / "runs" / "sweeps" / "tiny"
    for trial in ("fusion=wsa", "fusion=fix"):
        assert json.loads((root / trial / "checkpoints" / "state.json").read_text())["num_timesteps"] == 30
    assert "| wsa | 1/1 |" in (root / "summary.md").read_text()
    capsys.readouterr()
    assert main(["sweep", "tiny.yaml", "--executor", "inprocess"]) == 0
    assert "2 finished (skipped)" in capsys.readouterr().out


def test_the_side_by_side_executor_stops_a_run_by_any_stop_rule(tmp_path, monkeypatch):
    """The stop rule is an option of the engine's side-by-side executor, not the bench's: a rule met by a run's
    first eval stops that run there for good (the bench's target rule is one such rule, tests/test_bench_target.py),
    and the executor says so in the rule's words."""
    from wsa_robot.engine import side_by_side
    from wsa_robot.engine.jobs import Job

    class Training(FakeProcess):
        """A run that appends one eval at its second poll, then trains on until SIGTERM (or 50 polls)."""

        def __init__(self, cmd, **_):
            self.path = Path(next(a for a in cmd if a.startswith("run_dir=")).split("=", 1)[1])
            self.path.mkdir(parents=True, exist_ok=True)
            self.returncode, self.polls = None, 0

        def poll(self):
            self.polls += 1
            if self.polls == 2:
                (self.path / "evals.json").write_text(json.dumps([{"step": 10, "mean_return": 1.0, "wall_s": 1.0}]))
            if self.polls > 50:
                self.returncode = 0
            return self.returncode


    class FirstEval:
        what = "its first eval"

        def __init__(self):
            self.checked = []

        def met(self, path):
            return bool(self.checked)

        def settle(self, path, say):
            pass

        def due(self, path, evals):
            return bool(evals) and not self.checked

        def check(self, path, evals, say):
            self.checked.append(evals[-1]["step"])
            return True

    monkeypatch.setattr(side_by_side.subprocess, "Popen", Training)
    monkeypatch.setattr(side_by_side.time, "sleep", lambda _s: None)
    rule, said = FirstEval(), []
    job = Job("a", tmp_path / "a", 100, ("task=Lift",), eval_every=10, eval_episodes=2)
    seconds = side_by_side.SideBySide(tmp_path / "logs", cores=1, rule=rule).run([job], said.append)
    assert rule.checked == [10] and set(seconds) == {"a"}
    assert "a: step 10, eval +1.0 over 2 episodes, 10 steps/s" in said
    assert any(line.startswith("a: reached its first eval at step 0") for line in said), said


def test_the_side_by_side_executor_starts_every_job_at_once_and_names_those_short_of_their_budget(tmp_path,
                                                                                               monkeypatch):
    """`--executor side-by-side`: both runs are training before either is polled (so they share the machine
    alike), and runs that end without reaching their budget are Stopped, one line each, as every executor's."""
    from wsa_robot.engine import executors, side_by_side
    from wsa_robot.engine.jobs import Job
    from wsa_robot.engine.plan import Resources

    started, alive_at_first_poll = [], []

    class Training(FakeProcess):
        """A run that ends on its own at its third poll, without a checkpoint."""

        def __init__(self, cmd, **_):
            started.append(cmd)
            self.returncode, self.polls = None, 0

        def poll(self):
            alive_at_first_poll.append(len(started))
            self.polls += 1
            self.returncode = 0 if self.polls > 2 else None
            return self.returncode


    monkeypatch.setattr(side_by_side.subprocess, "Popen", Training)
    monkeypatch.setattr(side_by_side.time, "sleep", lambda _s: None)
    jobs = [Job(name, tmp_path / name, 100, ("task=Lift",)) for name in ("a", "b")]
    runner = executors.executor("side-by-side", tmp_path / "logs", tmp_path, Resources())
    with pytest.raises(executors.Stopped) as stopped:
        runner.run(jobs, lambda _line: None)
    assert len(started) == 2 and alive_at_first_poll[0] == 2
    assert stopped.value.lines == [f"{n} stopped at step 0; {executors.AGAIN}" for n in ("a", "b")]


FAKE_CHECKPOINT = "fake_checkpoint.json"  # the step a fake training process "checkpointed"


def fake_checkpoint_step(self) -> int | None:
    file = self.path / FAKE_CHECKPOINT
    return json.loads(file.read_text())["step"] if file.exists() else None


class ToTarget(FakeProcess):
    """A `wsa-robot train` child: a new one writes its run's config.yaml; at its second poll it appends an eval
    of 20 one eval (1024 steps) past its checkpoint, then trains on until SIGTERM (a checkpoint 100 steps past
    that eval, exit 0) or 50 polls (exit 0 with no new checkpoint: short of its budget)."""
    started: list[list[str]] = []

    def __init__(self, cmd, **_):
        from wsa_robot.config import load_config
        from wsa_robot.run.run_dir import RunDir

        ToTarget.started.append(cmd)
        if "--resume" in cmd:
            self.path = Path(cmd[cmd.index("--resume") + 1])
        else:
            at = next(i for i, a in enumerate(cmd) if a.startswith("run_dir="))
            self.path = Path(cmd[at].split("=", 1)[1])
            self.path.mkdir(parents=True, exist_ok=True)
            RunDir(self.path).write_config(load_config(cmd[at:]))
        self.returncode, self.polls = None, 0
        self.step = fake_checkpoint_step(self) or 0

    def poll(self):
        self.polls += 1
        if self.polls == 2:
            self.step += 1024
            evals = self.path / "evals.json"
            rows = json.loads(evals.read_text()) if evals.exists() else []
            evals.write_text(json.dumps(rows + [{"step": self.step, "mean_return": 20.0, "success_rate": 0.0,
                                                 "wall_s": 1.0}]))
        if self.polls > 50:
            self.returncode = 0
        return self.returncode

    def send_signal(self, _sig):
        (self.path / FAKE_CHECKPOINT).write_text(json.dumps({"step": self.step + 100}))
        self.returncode = 0


@pytest.fixture
def to_target(monkeypatch):
    """`wsa-robot train` processes are ToTarget fakes, read as checkpointed where they say."""
    import subprocess
    import time

    from wsa_robot.run.run_dir import RunDir

    real = subprocess.Popen  # other commands (git, for the results' provenance) run as they are
    monkeypatch.setattr(subprocess, "Popen", lambda cmd, *a, **k: ToTarget(cmd) if "train" in cmd else
                        real(cmd, *a, **k))
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    monkeypatch.setattr(RunDir, "checkpoint_step", fake_checkpoint_step)
    ToTarget.started = []
    return ToTarget


def test_the_local_executor_stops_a_run_at_the_target_only_if_whole_episodes_hold_it(tmp_path, to_target):
    """The target-stop rule (engine/target.py) on the local executor, as on the side-by-side one: an eval at the
    target stops the run (a checkpoint), whole episodes from that checkpoint decide; under the target the run
    resumes, holding it the run is done there, short of its budget, and no later call resumes it."""
    from wsa_robot.engine import executors
    from wsa_robot.engine.jobs import Job
    from wsa_robot.engine.target import TargetStop, read_checks, read_target

    games = iter([[10.0, 11.0, 9.0], [19.0, 19.0, 19.0]])
    rule = TargetStop(18, 3, lambda path, n: (next(games), 0))
    job = Job("a", tmp_path / "a", 100_000, ("task=Lift", "encoders=state", *TINY))
    said: list[str] = []
    executors.start([job], executors.Local(tmp_path / "logs", rule=rule), said.append)
    assert [(c["eval_step"], c["step"], c["held"]) for c in read_checks(job.path)] == [(1024, 1124, False),
                                                                                      (2148, 2248, True)]
    assert read_target(job.path)["step"] == 2248 and len(to_target.started) == 2
    assert "--resume" in to_target.started[1]  # under the target: trained on from the checkpoint
    assert "a: reached the target at step 2,248" in said, said
    for runner in (executors.Local(tmp_path / "logs", rule=rule), executors.Local(tmp_path / "logs")):
        said.clear()
        executors.start([job], runner, said.append)  # done for good, with the rule or without it
        assert len(to_target.started) == 2 and said == ["a: finished (2248 steps, stopped at the target)"]


@pytest.mark.parametrize("executor", ["local", "side-by-side"])
def test_plan_target_stops_a_run_on_the_executors_that_can(tmp_path, capsys, monkeypatch, to_target, executor):
    """`wsa-robot plan --target SCORE`: the bench's target rule on a plan, its checks in the results rows."""
    from wsa_robot.cli.commands import main
    from wsa_robot.studies import benchmark

    monkeypatch.setattr(benchmark, "final_scores", lambda path, n: ([19.0] * n, 0))
    (tmp_path / "plan.yaml").write_text(PLAN)
    argv = ["plan", str(tmp_path / "plan.yaml"), "--runs-root", str(tmp_path / "runs"), "--steps", "100000",
            "--eval-every", "1024", "--eval-episodes", "2", "--out", str(tmp_path / "out.json"), "--executor",
            executor, "--target", "18", "--target-episodes", "4", *TINY]
    assert main(argv) == 0, capsys.readouterr()
    assert "oracle-seed0: reached the target at step 1,124" in capsys.readouterr().out
    row, = json.loads((tmp_path / "out.json").read_text())["runs"]
    assert row["stopped_at_target"]["eval_step"] == 1024 and row["stopped_at_target"]["episodes"] == 4
    assert row["target_checks"] == [row["stopped_at_target"]] and len(to_target.started) == 1


@pytest.mark.parametrize("executor", ["inprocess", "ray"])
def test_plan_target_on_an_executor_that_cannot_stop_a_run_is_one_line(tmp_path, capsys, executor):
    (tmp_path / "plan.yaml").write_text(PLAN)
    one_line_error(capsys, plan_argv(tmp_path, 30, "--executor", executor, "--target", "18"),
                   f"--target needs --executor local or side-by-side; {executor} cannot stop a run")
    assert not (tmp_path / "runs").exists()


def test_sweep_target_on_ray_is_one_line(in_tmp, capsys):
    Path("tiny.yaml").write_text("name: tiny\nbase: {task: Lift, encoders: [state], total_steps: 30}\n"
                                 "grid: {fusion: [wsa]}\n")
    one_line_error(capsys, ["sweep", "tiny.yaml", "--target", "18"],
                   "--target needs --executor local or side-by-side; ray cannot stop a run")


def test_sweep_target_stops_a_trial_on_the_local_executor_and_counts_it_done(in_tmp, capsys, monkeypatch,
                                                                               to_target):
    from wsa_robot.cli.commands import main
    from wsa_robot.studies import benchmark

    monkeypatch.setattr(benchmark, "final_scores", lambda path, n: ([19.0] * n, 0))
    Path("tiny.yaml").write_text("name: tiny\nbase: {task: Lift, encoders: [state], total_steps: 100000, "
                                 "eval_every: 1024, eval_episodes: 2, horizon: 20}\ngrid: {fusion: [wsa]}\n")
    assert main(["sweep", "tiny.yaml", "--executor", "local", "--target", "18", "--target-episodes", "3"]) == 0
    assert "fusion=wsa: reached the target at step 1,124" in capsys.readouterr().out
    assert main(["sweep", "tiny.yaml", "--executor", "local"]) == 0  # done for good: skipped
    assert "1 finished (skipped)" in capsys.readouterr().out and len(to_target.started) == 1
