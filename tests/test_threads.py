"""The learner's torch threads: the cores the env subprocesses leave, unless torch_threads says otherwise."""

import pytest
import torch

from wsa_robot.agents import threads
from wsa_robot.run.training_setup import training_setup
from wsa_robot.config import load_config


@pytest.mark.parametrize("overrides, subprocesses, overlap", [
    ([], 1, True),                                   # the default: overlapped updates need the env in a subprocess
    (["sac.overlap=false"], 0, False),               # SB3's order: one process
    (["sac.overlap=false", "n_envs=2"], 2, False),   # vec_env auto: a subprocess per env when there are several
    (["vec_env=dummy"], 0, True),                    # asked for one process: the update simply runs before the step
    (["algo=ppo", "n_envs=3"], 3, False),
])
def test_training_setup_decides_where_the_envs_step(overrides, subprocesses, overlap):
    setup = training_setup(load_config(["task=Lift", *overrides]))
    assert (setup.env_subprocesses, setup.overlap) == (subprocesses, overlap)
    assert setup.vec_env == ("subproc" if subprocesses else "dummy")


def test_learner_threads_leave_the_env_subprocesses_their_cores(monkeypatch):
    monkeypatch.setattr(threads, "available_cores", lambda: 8)
    cfg = load_config(["task=Lift"])
    assert threads.learner_threads(cfg, 0) is None  # one process: torch's default
    assert threads.learner_threads(cfg, 1) == 7
    assert threads.learner_threads(cfg, 8) == 1 and threads.learner_threads(cfg, 12) == 1
    assert threads.learner_threads(load_config(["task=Lift", "torch_threads=3"]), 1) == 3  # the user's choice wins


def test_an_off_policy_learner_on_pixels_gets_every_core(monkeypatch):
    """E2E-SAC's update outweighs the env's step ten times over: the env subprocess idles, the learner needs the
    cores. PPO on pixels (Atari: 8 env subprocesses, rollouts apart from updates) keeps the rule."""
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    assert threads.learner_threads(load_config(["task=Lift", "fusion=e2e"]), 1) == 2
    assert threads.learner_threads(load_config(["task=Lift", "fusion=e2e", "torch_threads=1"]), 1) == 1
    assert threads.learner_threads(load_config(["task=Lift"]), 1) == 1  # WSA: the env's render is the slow part
    assert threads.learner_threads(load_config(["task=Lift", "fusion=e2e", "algo=ppo", "n_envs=8"]), 8) == 1


def test_the_resolved_threads_are_set_inside_the_block_and_restored_after(monkeypatch):
    monkeypatch.setattr(threads, "available_cores", lambda: 3)
    before = torch.get_num_threads()
    setup = training_setup(load_config(["task=Lift"]))
    assert setup.torch_threads == 2  # 3 cores, one env subprocess
    with threads.torch_threads(setup.torch_threads):
        assert torch.get_num_threads() == 2
        with threads.torch_threads(training_setup(load_config(["task=Lift", "sac.overlap=false"])).torch_threads):
            assert torch.get_num_threads() == 2  # None: left as it was
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == before
