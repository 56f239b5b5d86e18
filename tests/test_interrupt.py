"""Ctrl-C in a terminal signals the whole process group: the trainer and its env subprocess. The run must stop
with a checkpoint and exit 0, not with the worker's traceback or a failed close of its pipe."""

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from stable_baselines3.common.vec_env import SubprocVecEnv

from wsa_robot.run.pipeline import close_envs
from wsa_robot.run.run_dir import RunDir

SMALL = ["total_steps=100000", "checkpoint_every=20", "eval_every=0", "horizon=25", "cameras=agentview",
         "sac.learning_starts=30", "sac.batch_size=16", "fusion_dim=32", "sac.net_arch=32,32"]


def _read_all(fd: int, into: bytearray, seconds: float) -> None:
    end = time.time() + seconds
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                return
            if not chunk:
                return
            into += chunk


def test_ctrl_c_to_the_process_group_checkpoints_and_exits_0(in_tmp):
    """In an 80-column terminal with the live progress line: after Ctrl-C, one line says the run stopped and
    was saved, where, at which step and how to resume; the progress line is not drawn again after it."""
    run = Path("run")
    state = run / "checkpoints" / "state.json"
    exe = str(Path(sys.executable).with_name("wsa-robot"))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 80, 0, 0))
    env = {**os.environ, "COLUMNS": "80", "TERM": "xterm-256color"}
    proc = subprocess.Popen([exe, "train", f"run_dir={run}", *SMALL], stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True, env=env,  # the default sac.overlap: the env in a subprocess
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(slave)
    out = bytearray()
    try:
        end = time.time() + 240
        while time.time() < end and not state.exists() and proc.poll() is None:
            _read_all(master, out, 0.5)
        assert proc.poll() is None, out.decode(errors="replace")
        _read_all(master, out, 2.0)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
        end = time.time() + 120
        while proc.poll() is None and time.time() < end:
            _read_all(master, out, 0.5)
        _read_all(master, out, 1.0)
        assert proc.wait(timeout=10) == 0, out.decode(errors="replace")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        os.close(master)
    log = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode(errors="replace"))
    assert "Traceback" not in log, log
    assert log.count("stopped at step") == 1, log
    tail = log[log.index("stopped at step"):]
    step = int(tail.split()[3])
    assert f"stopped at step {step} of 100000 and saved in run; resume with: wsa-robot train --resume run" in tail
    assert "/100000" not in tail and "steps/s" not in tail and "run saved in" not in log, tail  # no redraw
    assert RunDir(run).checkpoint_step() == step
    assert "/100000" in log[:log.index("stopped at step")]  # the live line was there before


def test_closing_envs_whose_worker_is_gone_does_not_fail():
    import gymnasium as gym

    venv = SubprocVecEnv([lambda: gym.make("Pendulum-v1")])
    venv.reset()
    venv.step_async([[0.0]])
    venv.processes[0].kill()  # mid-step, as after SIGTERM to the whole group: the pipe now leads nowhere
    venv.processes[0].join()
    close_envs(venv)
    assert not venv.processes[0].is_alive()


SIGTERM_DURING_SAVE = """
import os, signal, sys
from wsa_robot.cli.commands import main
from wsa_robot.run.run_dir import RunDir
save = RunDir.save_checkpoint
def save_under_sigterm(self, *args, **kwargs):
    os.kill(os.getpid(), signal.SIGTERM)
    return save(self, *args, **kwargs)
RunDir.save_checkpoint = save_under_sigterm
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_while_a_stopped_run_saves_its_checkpoint_does_not_cut_it_short(tmp_path):
    """Ctrl-C to a bench reaches its runs and the bench, which then sends SIGTERM to every run to stop it: a run
    already saving its checkpoint must finish the save. Here every save meets a SIGTERM: the first one stops
    the run at a periodic checkpoint (as any SIGTERM does), the second comes during the checkpoint of the stop.
    Before, that one killed the run (exit -15) and its steps since the last checkpoint were lost."""
    run = tmp_path / "run"
    args = ["train", "task=atari/Pong", "fusion=e2e", "n_envs=2", "total_steps=100000", "ppo.n_steps=64",
            "ppo.batch_size=64", "ppo.n_epochs=1", "eval_every=0", "checkpoint_every=192", f"run_dir={run}",
            "--no-progress"]
    proc = subprocess.run([sys.executable, "-c", SIGTERM_DURING_SAVE, *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    step = int(out[out.index("stopped at step"):].split()[3])
    assert step == 128 and RunDir(run).checkpoint_step() == step, out  # where the rollout cut short began
