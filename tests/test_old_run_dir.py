"""Issue 37 item 6: a run dir written by an older main (tests/data/run_fee5cad, made at fee5cad, before the
refactor) still evaluates and resumes, through the CLI as a user runs it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data" / "run_fee5cad"


def wsa(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd)}
    return subprocess.run([sys.executable, "-m", "wsa_robot.cli.commands", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_a_run_dir_of_an_older_main_evaluates_and_resumes(tmp_path):
    run = tmp_path / "old"
    shutil.copytree(DATA, run, ignore=shutil.ignore_patterns("README.md"))
    done = wsa(["eval", str(run), "--episodes", "1"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    done = wsa(["train", "--resume", str(run), "total_steps=450"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((run / "checkpoints" / "state.json").read_text())["num_timesteps"] == 450
    steps = [row["step"] if "step" in row else row["steps"] for row in json.loads((run / "evals.json").read_text())]
    assert steps == [150, 300, 450]  # the curve continues: its evals before the resume kept
