"""experiments/learn_check.py is a one-run job of the engine (in-process executor) that writes its results file in
the schema the docs quote: a tiny Lift run (the state oracle), then the same command with a larger budget, which
the engine resumes."""

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TINY = ["encoders=state", "horizon=20", "sac.learning_starts=20", "sac.batch_size=8", "sac.net_arch=16,16",
        "fusion_dim=16", "torch_threads=1"]
ENTRY = {"steps", "success_rate", "return", "wall_s", "total_steps", "steps_done", "eval_episodes", "config",
         "provenance"}


def run_script(monkeypatch, *argv: str) -> None:
    spec = importlib.util.spec_from_file_location("learn_check", ROOT / "experiments" / "learn_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", ["learn_check.py", *argv])
    module.main()


def test_learn_check_trains_through_the_engine_resumes_and_writes_its_schema(tmp_path, monkeypatch, capsys):
    out = tmp_path / "learn_check_lift.json"
    args = ["--eval-every", "20", "--eval-episodes", "1", "--run-dir", str(tmp_path / "run"), "--out", str(out)]
    run_script(monkeypatch, "--steps", "40", *args, *TINY)
    assert "run: starting" in capsys.readouterr().out  # the engine's line for a new job
    run_script(monkeypatch, "--steps", "60", *args, *TINY)
    assert "run: resuming at 40" in capsys.readouterr().out
    saved = json.loads(out.read_text())
    assert set(saved) == {"Lift", "provenance"} and set(saved["Lift"]) == ENTRY
    lift = saved["Lift"]
    assert lift["steps"] == [20, 40, 60] and lift["steps_done"] == 60 and lift["total_steps"] == 60
    assert len(lift["return"]) == len(lift["success_rate"]) == 3 and lift["config"]["encoders"] == ["state"]
    assert out.with_suffix(".png").stat().st_size > 1000
