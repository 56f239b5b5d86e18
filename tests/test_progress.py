"""The training progress line shows learning, not only speed: the recent training episodes' mean return and
success rate and the last periodic eval, for SAC and PPO alike, within the terminal's width."""

import io
import re

import gymnasium as gym
import numpy as np
import pytest
from rich.console import Console
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.env_util import make_vec_env

from wsa_robot.run.callbacks import EvalCallback, ProgressCallback, WeightsCallback, fit_parts, progress_parts


class Reach(gym.Env):
    """Five steps; reward = action; the episode succeeds when the summed action is positive."""
    observation_space = gym.spaces.Box(-1, 1, (2,), np.float32)
    action_space = gym.spaces.Box(-1, 1, (1,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.total = 0, 0.0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        self.total += float(action[0])
        done = self.t >= 5
        return np.zeros(2, np.float32), float(action[0]), False, done, {"is_success": self.total > 0}


class FakeRun:
    def read_evals(self):
        return []

    def append_eval(self, row):
        pass


def _train(algo, console):
    venv = make_vec_env(Reach, n_envs=1, seed=0)  # a Monitor under it, as pipeline.make_vec_env has
    model = SAC("MlpPolicy", venv, learning_starts=10, seed=0) if algo == "sac" else \
        PPO("MlpPolicy", venv, n_steps=20, batch_size=10, n_epochs=1, seed=0)
    weights = WeightsCallback(["ae@agentview", "ae@robot0_eye_in_hand"])
    weights.recent = np.array([0.4, 0.6])
    evals = EvalCallback(FakeRun(), 20, lambda: {"mean_return": 1.5, "std_return": 0.0, "success_rate": 0.5},
                         wall=lambda: 0.0)
    bar = ProgressCallback(60, weights, evals, console=console)
    model.learn(60, callback=[evals, bar])
    return bar


@pytest.mark.parametrize("algo", ["sac", "ppo"])
def test_the_line_shows_episode_return_success_and_the_last_eval(algo):
    bar = _train(algo, Console(file=io.StringIO(), width=200))
    texts = [text for _, text in bar.parts()]
    episodes = [t for t in texts if t.startswith("ep return")]
    assert episodes and re.fullmatch(r"ep return -?\d+\.\d\d success \d+%", episodes[0]), texts
    mean = np.mean([info["r"] for info in bar.model.ep_info_buffer])
    assert f"ep return {mean:.2f}" in episodes[0]
    assert "eval 1.50 success 50%" in texts and "ae@agent 0.40 ae@eye_in_hand 0.60" in texts


@pytest.mark.parametrize("algo", ["sac", "ppo"])
def test_the_live_line_fits_80_columns(algo):
    out = io.StringIO()
    _train(algo, Console(file=out, width=80, force_terminal=True, color_system=None))
    lines = [l for l in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue()).replace("\r", "\n").splitlines()
             if l.strip()]
    assert lines and all(len(l) <= 77 for l in lines), lines  # 3 columns left for an echoed ^C
    assert "60/60" in lines[-1] and "ep return" in lines[-1] and "eval 1.50 success 50%" in lines[-1], lines[-1]


def test_what_is_left_out_first_at_80_columns():
    parts = progress_parts(1234, 1500, 27.1, {"return": 12.345, "success": 1 / 6}, {"mean_return": 15.2,
                           "success_rate": 0.4}, "agent 0.41 eye_in_hand 0.59")
    line = fit_parts(parts, 77)
    assert line == "1234/1500  ep return 12.35 success 17%  eval 15.20 success 40%  0:09 left", line
    assert fit_parts(parts, 200).endswith("27.1 steps/s  agent 0.41 eye_in_hand 0.59")
    assert fit_parts(parts, 30) == "1234/1500  0:09 left"  # the learning parts do not fit; shorter ones may
    assert fit_parts(parts, 5) == "1234/1500"  # steps always


def test_the_scripted_warm_up_is_marked_and_its_episodes_are_not_counted_as_the_agents():
    """SAC's `expert_steps`: the controller's episodes say `warm-up`; after it the line reports only the
    episodes the agent played (the controller's lifts would otherwise read as the agent's success)."""
    warm = progress_parts(100, 1000, 20.0, {"return": 178.9, "success": 1.0, "warmup": True}, None, None)
    assert warm[1][1] == "warm-up ep return 178.90 success 100%"
    venv = make_vec_env(Reach, n_envs=1, seed=0)
    model = SAC("MlpPolicy", venv, learning_starts=10, seed=0)
    model.expert_steps = 30  # the first 6 of 12 five-step episodes
    bar = ProgressCallback(60, WeightsCallback(["state"]), None, console=Console(file=io.StringIO(), width=200))
    model.learn(60, callback=bar)
    infos = list(model.ep_info_buffer)
    assert len(infos) == 12
    episodes = [t for _, t in bar.parts() if "ep return" in t][0]
    assert episodes == f"ep return {np.mean([i['r'] for i in infos[6:]]):.2f} success " \
                       f"{np.mean(list(model.ep_success_buffer)[6:]):.0%}"


def test_after_more_own_episodes_than_the_window_the_line_shows_the_whole_window():
    """SB3 keeps the last `stats_window_size` episodes; once the agent has played more than that since the
    warm-up, the line reports all of them, not a shrinking tail."""
    venv = make_vec_env(Reach, n_envs=1, seed=0)
    model = SAC("MlpPolicy", venv, learning_starts=10, seed=0, stats_window_size=4)
    model.expert_steps = 30  # 6 warm-up episodes, then 6 of the agent's, 4 of them kept
    bar = ProgressCallback(60, WeightsCallback(["state"]), None, console=Console(file=io.StringIO(), width=200))
    model.learn(60, callback=bar)
    infos = list(model.ep_info_buffer)
    assert len(infos) == 4 and bar._episodes()["episodes"] == 4
    assert bar._episodes()["return"] == pytest.approx(np.mean([i["r"] for i in infos]))


class RecordingRun(FakeRun):
    def __init__(self, rows):
        self.rows = list(rows)

    def read_evals(self):
        return list(self.rows)

    def append_eval(self, row):
        self.rows.append(row)


@pytest.mark.parametrize("evals_before, evaluated", [
    ([{"step": 20, "mean_return": 0.0}], [40]),   # stopped at 40 after its checkpoint, before the eval at 40
    ([{"step": 20, "mean_return": 0.0}, {"step": 40, "mean_return": 0.0}], []),  # the eval at 40 was written
])
def test_a_resume_at_an_eval_step_runs_the_eval_a_stop_cut_off(evals_before, evaluated):
    """A run stopped at an eval step checkpoints before it evaluates (a Pong curve lost its points at 0.9M and
    1.4M so); the resume evaluates that step first, once, and the periodic evals go on as before."""
    venv = make_vec_env(Reach, n_envs=1, seed=0)
    model = PPO("MlpPolicy", venv, n_steps=20, batch_size=10, n_epochs=1, seed=0)
    model.num_timesteps = 40  # as load_agent leaves a checkpoint saved at step 40
    run = RecordingRun(evals_before)
    evals = EvalCallback(run, 20, lambda: {"mean_return": 1.0, "std_return": 0.0}, wall=lambda: 0.0)
    model.learn(20, callback=[evals], reset_num_timesteps=False)
    assert [r["step"] for r in run.rows[len(evals_before):]] == [*evaluated, 60]
