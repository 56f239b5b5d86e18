"""A checkpoint that cannot be written (a full disk, a lost permission) stops the run in one line, exit 1, with
the previous checkpoint whole and resumable, and no write retried."""

import errno
from pathlib import Path

import pytest

from wsa_robot.run import run_dir as run_dir_module
from wsa_robot.cli.commands import main
from wsa_robot.run.run_dir import RunDir

TINY = ["horizon=20", "eval_every=0", "sac.learning_starts=10", "sac.batch_size=8", "fusion_dim=32",
        "sac.net_arch=32,32", "checkpoint_every=10", "cameras=agentview", "--no-progress"]


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "No space left on device"),
                                         (errno.EACCES, "Permission denied")])
def test_a_failed_checkpoint_is_one_line_keeps_the_last_and_resumes(capsys, in_tmp, monkeypatch, code, words):
    real = run_dir_module.save_replay
    calls = []

    def replay_then_fail(buffer, f):
        calls.append(1)
        if len(calls) >= 2:  # the first periodic checkpoint is written, the second meets a full disk
            f.write(b"x" * 1000)  # part of it written, as a real full disk does
            raise OSError(code, words)
        real(buffer, f)

    monkeypatch.setattr(run_dir_module, "save_replay", replay_then_fail)
    assert main(["train", "run_dir=run", "total_steps=40", *TINY]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert words in err and "checkpoint of step 10 is kept" in err and " free there" in err and "needs about" in err, err
    assert "wsa-robot train --resume run" in err
    assert len(calls) == 2  # not retried when the run stopped
    run = RunDir(Path("run"))
    assert run.checkpoint_step() == 10 and run.read_state()["num_timesteps"] == 10  # the three files agree
    assert not list(Path("run").rglob(".*.tmp"))
    monkeypatch.setattr(run_dir_module, "save_replay", real)  # space freed
    assert main(["train", "--resume", "run", "total_steps=30", "--no-progress"]) == 0
    assert run.checkpoint_step() == 30
