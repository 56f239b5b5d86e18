"""Everything a run needs from its folder and its values is checked before any work starts, in one line and exit
2, and a start that fails or is stopped leaves no folder behind (or one the same command accepts again)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers import one_line_error, train_tiny_lift, wait_for

from wsa_robot.run.run_dir import RunDir

QUICK = ["total_steps=10", "--no-progress"]


@pytest.mark.parametrize("args, match", [
    (["run_dir=afile"], "is a file, not a folder"),
    (["run_dir=afile/run"], "afile is a file, not a folder"),
    (["run_dir=/proc/self/no-such-run"], "cannot be written"),
    (["run_dir=many"], "holds other runs"),
    (["seed=4294967296"], "bad value for seed"),
    (["seed=-1"], "bad value for seed"),
    (["sac.learning_rate=-0.001"], "bad value for sac.learning_rate"),
    (["sac.gamma=.nan"], "bad value for sac.gamma"),
    (["n_envs=99999999999"], "bad value for n_envs"),
    (["cameras=[agentview,agentview]"], "agentview given more than once"),
    (["encoders=[ae,ae]"], "ae given more than once"),
    (["cameras=[agentview"], "is not a YAML value"),
    (["seed=!!python/object/apply:os.system [true]"], "is not a YAML value"),
])
def test_a_bad_folder_or_value_is_one_line_before_any_work(capsys, in_tmp, args, match):
    Path("afile").write_text("not a folder")
    for other in ("many/Lift/a", "many/Lift/b"):  # a folder of runs, as runs/ is
        Path(other, "checkpoints").mkdir(parents=True)
        Path(other, "config.yaml").write_text("task: Lift\n")
    before = sorted(str(p) for p in Path(".").rglob("*"))
    one_line_error(capsys, ["train", *args, *QUICK], match)
    assert sorted(str(p) for p in Path(".").rglob("*")) == before  # nothing made, nothing changed


def test_a_start_that_fails_after_the_folder_is_made_leaves_none(capsys, in_tmp, monkeypatch):
    """A failure once the folder exists (here the encoders' load) removes it: the same command starts again."""
    from wsa_robot.run import pipeline
    from wsa_robot.core.errors import UserError

    def fail(*a, **k):
        raise UserError("the encoders could not load")

    monkeypatch.setattr(pipeline, "plan", fail)
    one_line_error(capsys, ["train", "run_dir=run", *QUICK], "could not load")
    assert not Path("run").exists()


def test_a_resume_below_the_steps_done_is_refused_and_changes_nothing(capsys, in_tmp):
    train_tiny_lift("run", horizon=20)
    config = Path("run/config.yaml").read_text()
    one_line_error(capsys, ["train", "--resume", "run", "total_steps=10"], "below the 30 steps")
    assert Path("run/config.yaml").read_text() == config


def test_a_config_whose_algorithm_is_not_its_checkpoints_is_one_line(capsys, in_tmp):
    train_tiny_lift("run", horizon=20)
    cfg = yaml.safe_load(Path("run/config.yaml").read_text())
    Path("run/config.yaml").write_text(yaml.safe_dump({**cfg, "algo": "ppo"}))
    one_line_error(capsys, ["eval", "run", "-n", "1"], "holds an off-policy (SAC) agent")
    one_line_error(capsys, ["train", "--resume", "run", "total_steps=40"], "holds an off-policy (SAC) agent")


def test_ctrl_c_while_the_run_is_set_up_says_so_and_exits_130(in_tmp):
    """Ctrl-C before the first step (encoders loading, envs building): the one stop line, exit 130, and the
    empty new folder removed."""
    exe = str(Path(sys.executable).with_name("wsa-robot"))
    proc = subprocess.Popen([exe, "train", "run_dir=run", "total_steps=100000", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert wait_for(lambda: Path("run").exists() or proc.poll() is not None, 120)
    time.sleep(0.3)  # the encoders are loading, or the envs being built
    assert proc.poll() is None
    os.kill(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    assert "stopped before training started" in out and "Traceback" not in out, out
    assert not Path("run").exists()
    assert not RunDir(Path("run")).config_file.exists()


def test_ctrl_c_while_a_resume_is_set_up_names_the_resume_command(in_tmp):
    train_tiny_lift("run", horizon=20)
    checkpoint = Path("run/checkpoints/model.zip").read_bytes()
    exe = str(Path(sys.executable).with_name("wsa-robot"))
    proc = subprocess.Popen([exe, "train", "--resume", "run", "total_steps=100000", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert wait_for(lambda: f"pid {proc.pid}" in Path("run/.writer").read_text() or proc.poll() is not None, 120)
    time.sleep(0.3)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in out, out
    assert "resume with: wsa-robot train --resume run" in out, out
    assert Path("run/checkpoints/model.zip").read_bytes() == checkpoint or "stopped at step" in out
