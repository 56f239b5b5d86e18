"""One writer per run dir (run_lock.py): a second `train` of a run that trains is refused in one line naming
the holder; a writer killed with SIGKILL leaves no stale lock; readers keep working."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from helpers import train_tiny_lift, wait_for

from wsa_robot.run.run_dir import RunDir
from wsa_robot.run.run_lock import LOCK_NAME, hold_writer_lock, release_writer_lock

SMALL = ["checkpoint_every=20", "eval_every=20", "eval_episodes=1", "cameras=agentview", "sac.learning_starts=20",
         "sac.batch_size=8", "fusion_dim=32", "sac.net_arch=32,32", "--no-progress"]


def cli(*args: str, **kwargs) -> subprocess.Popen:
    exe = str(Path(sys.executable).with_name("wsa-robot"))
    return subprocess.Popen([exe, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_two_writers_of_one_run_one_trains_and_the_files_stay_whole(in_tmp):
    run = RunDir(Path("run"))
    first = cli("train", f"run_dir={run.path}", "total_steps=100000", "horizon=25", *SMALL)
    try:
        assert wait_for(lambda: run.state_file.exists() or first.poll() is not None, 240), first.communicate()
        assert first.poll() is None, first.communicate()
        second = cli("train", "--resume", str(run.path), "total_steps=200000", "--no-progress")
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2, err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert f"pid {first.pid}" in err and "being written by" in err, err
        assert first.poll() is None  # the first writer trains on
        listing = cli("runs", "--json", str(run.path.parent))  # a reader, while the run trains
        out, err = listing.communicate(timeout=120)
        assert listing.returncode == 0, err
        assert len(json.loads(out)) == 1
    finally:
        first.send_signal(signal.SIGINT)
        _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err[-3000:]
    evals = [row["step"] for row in run.read_evals()]
    assert evals == sorted(set(evals)), evals  # one writer: no row twice, none out of order
    assert run.checkpoint_step() == run.read_state()["num_timesteps"]
    assert run.read_config().total_steps == 100000  # the refused resume did not rewrite the budget


def test_a_killed_writer_leaves_no_stale_lock(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\n"
                               "from wsa_robot.run.run_lock import hold_writer_lock\n"
                               f"hold_writer_lock({str(run)!r}); print('held', flush=True); time.sleep(300)"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    try:
        try:
            hold_writer_lock(run)
            raise AssertionError("took a lock another process holds")
        except Exception as e:  # UserError, one line, naming the holder
            assert f"pid {holder.pid}" in str(e) and "\n" not in str(e), e
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
        hold_writer_lock(run)  # the OS released the dead process's lock
        assert (run / LOCK_NAME).read_text().startswith(f"pid {os.getpid()}")
    finally:
        release_writer_lock(run)
        if holder.poll() is None:
            holder.kill()


def test_a_resume_leaves_the_files_of_runs_inside_its_folder_alone(in_tmp):
    train_tiny_lift("run", horizon=20)
    inner = Path("run/other/.config.yaml.123.tmp")
    inner.parent.mkdir()
    inner.write_text("another run's write in progress")
    own = Path("run/checkpoints/.model.zip.456.tmp")
    own.write_text("left by a kill")
    from wsa_robot.cli.commands import main

    assert main(["train", "--resume", "run", "total_steps=40", "--no-progress"]) == 0
    assert inner.exists()  # not this run's file: a resume never deletes it
    assert not own.exists()  # this run's own leftover is cleaned
