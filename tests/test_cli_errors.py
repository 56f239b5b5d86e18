"""Every mistake a user can make at the command line: one line on stderr, exit code 2, no traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from wsa_robot.cli.commands import main

from helpers import one_line_error


@pytest.mark.parametrize("argv, match", [
    (["train", "--task", "Lfit"], "unknown task 'Lfit'"),
    (["train", "encoders=nope"], "unknown encoder 'nope'"),
    (["train", "cameras=agentview,topview"], "unknown camera 'topview'"),
    (["train", "seedd=1"], "did you mean seed"),
    (["train", "seed"], "write key=value"),
    (["train", "fusion=attention"], "bad value for fusion"),
    (["train", "context=ae@frontview"], "context 'ae@frontview' is not a token"),
    (["train", "device=gpu0"], "use auto, cpu, cuda or cuda:N"),
    (["eval", "no/such/run"], "does not exist"),
    (["train", "--resume", "no/such/run"], "does not exist"),
    (["pretrain", "--skill", "telepathy"], "unknown skill"),
    (["pretrain", "--name", "My Skill"], "not a usable encoder name"),
    (["pretrain", "--name", "r3m50"], "a built-in encoder's name"),
    (["frobnicate"], "No such command"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, in_tmp, argv, match):
    one_line_error(capsys, argv, match)


def test_missing_and_corrupt_checkpoints(capsys, in_tmp):
    run = Path("runs/Lift/r1")
    (run / "checkpoints").mkdir(parents=True)
    one_line_error(capsys, ["eval", str(run)], "no config.yaml")
    from wsa_robot.config import dump_config, load_config

    (run / "config.yaml").write_text(dump_config(load_config()))
    one_line_error(capsys, ["eval", str(run)], "no checkpoint")
    (run / "checkpoints" / "model.zip").write_bytes(b"PK\x03\x04 truncated")
    one_line_error(capsys, ["eval", str(run)], "is corrupt")
    one_line_error(capsys, ["train", "--resume", str(run)], "is corrupt")


def test_no_runs_yet(capsys, in_tmp):
    one_line_error(capsys, ["eval"], "no runs under ./runs")


def test_the_installed_command_exits_2():
    exe = Path(sys.executable).with_name("wsa-robot")
    proc = subprocess.run([str(exe), "train", "--task", "Nope"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.strip().startswith("error: unknown task 'Nope'")


def test_listings_show_tasks_and_encoders(capsys):
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert "Lift" in out and "NutAssemblyRound" in out and "robot0_eye_in_hand" in out
    assert main(["encoders"]) == 0
    out = capsys.readouterr().out
    assert "ae" in out and "present" in out
