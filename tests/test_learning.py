"""`wsa-robot plan` (what scripts/learn_lift.py was): labelled configurations trained one at a time as run dirs
in child processes, resumed by the same command, reported as curves with steps to 0.8 success, the default flag
and the oracle marked."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wsa_robot.config import load_config
from wsa_robot.core.errors import UserError
from wsa_robot.engine.jobs import Job, check_started
from wsa_robot.engine.plan import PlannedRun as LearnRun, Schedule, read_plan
from wsa_robot.studies.learning import is_default, report, steps_to

ROOT = Path(__file__).resolve().parent.parent
TINY = ["horizon=20", "sac.learning_starts=20", "sac.batch_size=8", "sac.net_arch=16,16", "fusion_dim=16",
        "torch_threads=1"]
PLAN = """task: Lift
runs:
  - label: oracle
    encoders: [state]
    seeds: [0]
  - label: oracle-fix-n2
    fusion: fix
    encoders: state
    seeds: [1]
    overrides: [sac.n_steps=2]
"""


def train_command(run: LearnRun, path: Path, steps: int, eval_every: int, eval_episodes: int,
                  common: list[str]) -> list[str]:
    """The engine's child command for one plan run, after the check that a started run matches its entry."""
    job = Job(run.name, path, steps, tuple(run.config_overrides(Schedule(steps, eval_every, eval_episodes), common)))
    check_started(job)
    return job.child_command()


def script(tmp: Path, steps: int, *extra: str) -> subprocess.CompletedProcess:
    """`wsa-robot plan` as a user runs it: its own process, the default (local) executor."""
    return subprocess.run([sys.executable, "-m", "wsa_robot.cli", "plan", str(tmp / "plan.yaml"),
                           "--runs-root", str(tmp / "runs"), "--steps", str(steps), "--eval-every", "30",
                           "--eval-episodes", "2", "--out", str(tmp / "learn.json"), *extra, *TINY],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)


def test_two_tiny_configs_train_resume_and_report(tmp_path):
    (tmp_path / "plan.yaml").write_text(PLAN)
    first = script(tmp_path, 30)
    assert first.returncode == 0, first.stderr[-2000:]
    second = script(tmp_path, 60)  # the same runs, a larger budget: each resumes from its checkpoint
    assert second.returncode == 0, second.stderr[-2000:]
    logs = (tmp_path / "runs" / "logs" / "oracle-seed0.log").read_text()
    assert "resuming" in logs
    result = json.loads((tmp_path / "learn.json").read_text())
    assert [r["label"] for r in result["runs"]] == ["oracle", "oracle-fix-n2"]
    for row, fusion, seed in zip(result["runs"], ("wsa", "fix"), (0, 1)):
        assert row["fusion"] == fusion and row["encoders"] == ["state"] and row["seed"] == seed
        assert row["privileged"] and row["default"] is False and row["steps_done"] == 60
        assert [p["steps"] for p in row["curve"]] == [30, 60]  # one continuous curve over both calls
        assert all(p["episodes"] == 2 and 0 <= p["success"] <= 1 and p["wall_s"] >= 0 for p in row["curve"])
        assert "steps_to_0.8" in row and row["config"]["total_steps"] == 60
    assert result["runs"][1]["config"]["sac"]["n_steps"] == 2
    from wsa_robot.core.provenance import valid

    assert valid(result["provenance"]) == [] and set(result["summary"]) == {"oracle", "oracle-fix-n2"}
    assert (tmp_path / "learn.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    third = script(tmp_path, 60)  # everything finished: nothing trains, the report is rewritten
    assert third.returncode == 0 and "finished (60 steps)" in third.stdout


def test_a_run_whose_dir_is_gone_keeps_its_measured_row_and_a_run_dir_here_wins(tmp_path):
    """A new machine has only what was committed: the results file's rows must not vanish with the run dirs."""
    from wsa_robot.run.run_dir import RunDir

    (tmp_path / "plan.yaml").write_text("task: Lift\nruns:\n  - label: default\n    seeds: [0, 1]\n"
                                        "  - label: other\n    seeds: [0]\n")
    plan = read_plan(tmp_path / "plan.yaml")
    default_cfg = load_config(["task=Lift"]).model_dump()
    curve = [{"steps": 10, "success": 0.9, "return": 1.0, "episodes": 2, "wall_s": 5.0}]
    earlier = {"runs": [{"label": "default", "seed": s, "default": False, "privileged": False, "curve": curve,
                         "steps_to_0.8": 10, "config": default_cfg}
                        for s in (0, 1)], "provenance": {"date": "2026-11-30T00:00:00+00:00", "commit": "abc"}}
    out = tmp_path / "learn.json"
    out.write_text(json.dumps(earlier))
    here = tmp_path / "runs" / "default-seed1"
    here.mkdir(parents=True)
    RunDir(here).write_config(load_config(["task=Lift", "seed=1"]))  # re-run here: no eval yet
    result = report(plan, tmp_path / "runs", out, {"date": "2026-12-01T00:00:00+00:00", "commit": "def"})
    rows = {(r["label"], r["seed"]): r for r in result["runs"]}
    assert set(rows) == {("default", 0), ("default", 1)}  # `other` never ran anywhere
    carried = rows[("default", 0)]
    assert carried["curve"] == curve and carried["default"] is True  # recomputed against today's config
    assert carried["measured"]["commit"] == "abc" and carried["measured"]["date"].startswith("2026-11-30")
    assert rows[("default", 1)]["curve"] == [] and "measured" not in rows[("default", 1)]
    again = report(plan, tmp_path / "empty", out, {"date": "later", "commit": "ghi"})  # carried twice
    assert {r["measured"]["commit"] for r in again["runs"]} == {"abc", "def"}


def test_an_edited_plan_entry_never_continues_a_run_under_other_settings(tmp_path):
    run = LearnRun("oracle", 0, "Lift", encoders=("state",))
    path = tmp_path / "oracle-seed0"
    path.mkdir()
    from wsa_robot.run.run_dir import RunDir

    RunDir(path).write_config(load_config(run.config_overrides(Schedule(60, 30, 2), TINY)))
    assert "--resume" in train_command(run, path, 90, 30, 2, TINY)  # a larger budget is the same run
    edited = LearnRun("oracle", 0, "Lift", encoders=("state",), overrides=("sac.n_steps=5",))  # Lift's own is 3
    with pytest.raises(UserError, match="sac.n_steps"):
        train_command(edited, path, 60, 30, 2, TINY)


def test_a_run_saved_before_a_key_existed_still_resumes_under_its_plan_entry(tmp_path):
    """A key added to the schema after the run started is not a change of plan: the run keeps what it had
    (here zoo_preprocess, which such runs read as `stretch` while the default became `authors`)."""
    import yaml

    run = LearnRun("oracle", 0, "Lift", encoders=("state",))
    path = tmp_path / "oracle-seed0"
    path.mkdir()
    saved = load_config(run.config_overrides(Schedule(60, 30, 2), TINY)).model_dump()
    del saved["zoo_preprocess"]
    (path / "config.yaml").write_text(yaml.safe_dump(saved))
    assert "--resume" in train_command(run, path, 90, 30, 2, TINY)


def test_default_flag_ignores_only_seed_and_eval_schedule():
    assert is_default(load_config(["seed=4", "eval_every=10000", "eval_episodes=20", "total_steps=200000"]))
    assert not is_default(load_config(["sac.n_steps=5"]))  # Lift's own is 3 (tasks/Lift.yaml)
    assert not is_default(load_config(["encoders=state"]))


def test_steps_to_the_first_eval_at_target():
    curve = [{"steps": s, "success": v, "wall_s": s / 10} for s, v in ((10, 0.5), (20, 0.8), (30, 0.9))]
    assert steps_to(curve) == (20, 2.0)
    assert steps_to(curve[:1]) == (None, None)


def test_plan_mistakes_are_user_errors(tmp_path):
    bad = tmp_path / "plan.yaml"
    bad.write_text("runs:\n  - label: a\n  - label: a\n")
    with pytest.raises(UserError, match="used twice"):
        read_plan(bad)
    bad.write_text("runs:\n  - label: a\n    seed: 1\n")
    with pytest.raises(UserError, match="unknown field 'seed'"):
        read_plan(bad)
    bad.write_text("runs:\n  - label: a\n")
    with pytest.raises(UserError, match="no such label"):
        read_plan(bad, only=["b"])
    names = [r.name for r in read_plan(ROOT / "configs" / "learn_lift.yaml").runs]
    assert {"default-seed0", "default-seed1", "default-seed2"} <= set(names)  # the default on three seeds


def test_the_interquartile_mean_trims_a_quarter_off_each_end_and_its_interval_holds_it():
    from wsa_robot.engine.aggregate import iqm, iqm_ci

    assert iqm([0, 1, 2, 3, 4, 5, 6, 100]) == 3.5  # 8 runs: the middle four, 2..5; the outlier is gone
    assert iqm_ci([0.9, 1.0]) is None  # two seeds: no aggregate, the runs are listed as they are
    agg = iqm_ci([0.4, 0.95, 0.8])
    assert agg["iqm"] == 0.7167 and agg["ci"][0] <= 0.7167 <= agg["ci"][1]
    assert 0.4 <= agg["ci"][0] < agg["ci"][1] <= 0.95  # resampling the runs cannot leave their range
