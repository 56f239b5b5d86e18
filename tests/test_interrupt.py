"""Ctrl-C in a terminal signals the whole process group: the trainer and its env subprocess. The run must stop
with a checkpoint and exit 0, not with the worker's traceback or a failed close of its pipe."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from stable_baselines3.common.vec_env import SubprocVecEnv

from wsa_robot.pipeline import close_envs

from helpers import wait_for

SMALL = ["total_steps=100000", "checkpoint_every=20", "eval_every=0", "horizon=25", "cameras=agentview",
         "sac.learning_starts=30", "sac.batch_size=16", "fusion_dim=32", "sac.net_arch=32,32"]


def test_ctrl_c_to_the_process_group_checkpoints_and_exits_0(in_tmp):
    run = Path("run")
    state = run / "checkpoints" / "state.json"
    exe = str(Path(sys.executable).with_name("wsa-robot"))
    with open("log.txt", "w") as log:  # the default sac.overlap: the env steps in a subprocess
        proc = subprocess.Popen([exe, "train", f"run_dir={run}", *SMALL, "--no-progress"], stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert wait_for(lambda: state.exists() or proc.poll() is not None, 240)
        assert proc.poll() is None, Path("log.txt").read_text()
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
        assert proc.wait(timeout=120) == 0, Path("log.txt").read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    log = Path("log.txt").read_text()
    assert "interrupted at step" in log and "run saved in" in log and "Traceback" not in log, log


def test_closing_envs_whose_worker_is_gone_does_not_fail():
    import gymnasium as gym

    venv = SubprocVecEnv([lambda: gym.make("Pendulum-v1")])
    venv.reset()
    venv.step_async([[0.0]])
    venv.processes[0].kill()  # mid-step, as after SIGTERM to the whole group: the pipe now leads nowhere
    venv.processes[0].join()
    close_envs(venv)
    assert not venv.processes[0].is_alive()
