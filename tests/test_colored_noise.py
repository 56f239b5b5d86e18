"""Colored exploration noise for SAC (sac.noise_beta): the noise itself, and what the agent does with it."""

from __future__ import annotations

import numpy as np
import pytest

from wsa_robot.agents import build_agent, load_agent
from wsa_robot.agents.colored_noise import ColoredNoise, powerlaw_noise
from wsa_robot.config import load_config
from wsa_robot.run.pipeline import make_vec_env, plan


def lag1(x: np.ndarray) -> float:
    """Mean lag-1 autocorrelation of the rows of x [..., T]."""
    rows = x.reshape(-1, x.shape[-1])
    return float(np.mean([np.corrcoef(r[:-1], r[1:])[0, 1] for r in rows]))


@pytest.mark.parametrize("beta, low, high", [(0.0, -0.05, 0.05), (1.0, 0.6, 0.9), (2.0, 0.95, 1.0)])
def test_noise_has_unit_variance_and_the_correlation_its_colour_says(beta, low, high):
    x = powerlaw_noise(beta, 1000, (100,), np.random.default_rng(0))
    assert x.std() == pytest.approx(1.0, abs=0.05) and abs(x.mean()) < 0.1
    assert low <= lag1(x) <= high


def test_a_finished_episode_restarts_only_its_own_sequence():
    noise = ColoredNoise(1.0, n_envs=2, dims=3, steps=50, seed=0)
    first = np.stack([noise.draw() for _ in range(10)])  # [10, 2, 3]
    assert first.shape == (10, 2, 3)
    kept = noise.sequences[1].copy()
    noise.restart(0)
    assert noise.t.tolist() == [0, 10] and np.array_equal(noise.sequences[1], kept)
    for _ in range(45):
        noise.draw()  # env 1 passes its 50 steps: it gets a new sequence, not an index error
    assert noise.t.tolist() == [45, 5]


# the policy acts from the first step: no warm-up, neither random nor Lift's scripted one
ORACLE = ["encoders=state", "horizon=400", "vec_env=dummy", "sac.learning_starts=0", "sac.gradient_steps=0",
          "sac.batch_size=8", "sac.expert_steps=0"]


def rollout_actions(overrides: list[str], tmp_path=None) -> tuple[np.ndarray, object]:
    cfg = load_config(ORACLE + overrides)
    pipe = plan(cfg)
    venv = make_vec_env(pipe, 1, 0)
    agent = build_agent(cfg, venv, pipe.token_keys, pipe.context_key, None)
    agent.learn(300)  # the untrained policy acts: its mean barely moves, the noise is most of each action
    actions = agent.replay_buffer.actions[:300, 0].T  # [dims, T] in [-1, 1]
    return actions, (agent, venv, cfg)


def test_sac_with_pink_noise_explores_in_correlated_runs_and_keeps_beta_after_a_load(tmp_path):
    white, (agent, venv, _) = rollout_actions([])
    venv.close()
    pink, (agent, venv, cfg) = rollout_actions(["sac.noise_beta=1"])
    try:
        assert lag1(np.arctanh(np.clip(white, -0.999, 0.999))) < 0.3
        assert lag1(np.arctanh(np.clip(pink, -0.999, 0.999))) > 0.5
        # the gripper holds a sign for longer: the runs a 0.2-per-action gripper needs to close
        runs = lambda a: np.mean(np.diff(np.flatnonzero(np.diff(np.sign(a[-1])) != 0)))  # noqa: E731
        assert runs(pink) > 2 * runs(white)
        agent.save(tmp_path / "model.zip")
        loaded = load_agent(cfg, tmp_path / "model.zip", venv)
        assert loaded.noise_beta == 1.0
    finally:
        venv.close()
