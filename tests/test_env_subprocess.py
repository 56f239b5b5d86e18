"""Env subprocesses (run/env_workers.py, envs/worker.py) load no torch and speak SB3's SubprocVecEnv protocol:
reset, step with the episode's return and length at its end, env_method, get_attr, is_wrapped, close."""

from pathlib import Path

import numpy as np

from wsa_robot.config import load_config
from wsa_robot.envs.monitor import EpisodeMonitor
from wsa_robot.run.pipeline import make_vec_env, plan


def test_a_training_env_subprocess_loads_no_torch_and_reports_episodes():
    pipe = plan(load_config(["task=Lift", "horizon=12", "reward_scale=0.5"]))
    venv = make_vec_env(pipe, 1, 0, training=True, vec_env="subproc")
    try:
        pid = venv.venv.processes[0].pid  # EmbeddingVecEnv -> EnvSubprocesses
        libraries = Path(f"/proc/{pid}/maps").read_text()
        assert "mujoco" in libraries and "libtorch" not in libraries  # the env is there, torch is not
        obs = venv.reset()
        assert set(obs) >= set(pipe.token_keys)
        total, ended = 0.0, None
        for _ in range(12):
            obs, reward, done, infos = venv.step(np.zeros((1, *venv.action_space.shape), np.float32))
            total += float(reward[0])
            if done[0]:
                ended = infos[0]
        assert ended is not None and ended["episode"]["l"] == 12 and ended["TimeLimit.truncated"]
        assert ended["episode"]["r"] == round(total, 6)  # the scaled reward the agent learns from, summed
        assert "terminal_observation" in ended
        assert venv.env_is_wrapped(EpisodeMonitor) == [True]
        assert list(venv.get_attr("cameras")[0]) == pipe.cameras
    finally:
        venv.close()
    assert not venv.venv.processes[0].is_alive()
