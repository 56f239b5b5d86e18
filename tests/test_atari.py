"""The Atari backend: the screen stack, training-only wrappers, the reference PPO config, E2E and WSA runs,
and pretraining on Atari frames (tiny budgets, a temporary assets folder)."""

from pathlib import Path

import cv2
import gymnasium as gym
import numpy as np
import pytest
import torch

from wsa_robot.cli.commands import main
from wsa_robot.config import load_config
from wsa_robot.envs import make_env
from wsa_robot.core.errors import UserError
from wsa_robot.envs.tasks import load_task

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Batches of 2 images: on a busy 2-core machine two torch threads spin against each other (a NatureCNN
    forward took 50-100 ms with 2 threads, 1-3 ms with 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def atari(game: str, training: bool, seed: int = 0, horizon: int | None = None):
    return make_env(load_task(f"atari/{game}"), ["screen"], 84, seed=seed, horizon=horizon, training=training)


def random_steps(env, n: int, seed: int = 0):
    """Up to n random steps; yields (obs, reward, terminated, truncated) and stops at an episode's end."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        obs, reward, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        yield obs, reward, terminated, truncated
        if terminated or truncated:
            return


def test_screen_is_a_uint8_channel_last_stack_of_four():
    env = atari("Pong", training=False)
    space = env.observation_space["screen"]
    assert set(env.observation_space.spaces) == {"screen"}  # no proprio for Atari
    assert space.shape == (84, 84, 4) and space.dtype == np.uint8
    obs, _ = env.reset()
    assert env.observation_space.contains(obs)
    env.close()


def test_stack_is_upright_grey_oldest_first_and_changes():
    env = atari("Pong", training=False)
    previous, _ = env.reset()
    for obs, *_ in random_steps(env, 40):
        # one new frame enters at the end each step, the others move one place towards the front
        assert np.array_equal(obs["screen"][..., :3], previous["screen"][..., 1:])
        previous = obs
    stack = obs["screen"]
    assert len({stack[..., i].tobytes() for i in range(4)}) > 1  # the ball and paddles move
    grey = cv2.resize(env.unwrapped.ale.getScreenGrayscale(), (84, 84), interpolation=cv2.INTER_AREA)
    newest = stack[..., -1].astype(float)
    upright = np.abs(newest - grey).mean()
    assert upright < 5 and upright < np.abs(newest - grey[::-1]).mean() / 3  # the score sits at the top
    env.close()


def test_a_lost_life_ends_a_training_episode_only():
    train, evaluate = atari("Breakout", training=True), atari("Breakout", training=False)
    train.reset(seed=1)
    evaluate.reset(seed=1)
    steps = list(random_steps(train, 3000))
    lives = train.unwrapped.ale.lives()
    assert steps[-1][2] and 0 < lives < 5  # terminated with lives left
    for *_, terminated, truncated in random_steps(evaluate, 3000):
        if evaluate.unwrapped.ale.lives() < 5:
            assert not (terminated or truncated)  # eval plays on to game over
            break
    else:
        pytest.fail("no life lost in eval")
    train.close()
    evaluate.close()


def test_rewards_are_clipped_for_training_and_real_for_eval():
    rewards = {}
    for training in (True, False):
        env = atari("MsPacman", training=training)
        env.reset(seed=0)
        rewards[training] = {float(r) for _, r, *_ in random_steps(env, 300)}
        env.close()
    assert rewards[True] <= {-1.0, 0.0, 1.0} and 1.0 in rewards[True]
    assert max(rewards[False]) >= 10  # a pellet is worth 10 points


def test_atari_tasks_carry_the_reference_ppo_and_the_user_overrides_it():
    cfg = load_config(["task=atari/Pong"])
    ppo = cfg.ppo
    assert (cfg.algo, cfg.fusion, cfg.n_envs, cfg.proprio, cfg.vec_env) == ("ppo", "wsa", 8, "none", "dummy")
    assert (ppo.n_steps, ppo.n_epochs, ppo.batch_size, ppo.learning_rate, ppo.clip_range) == (128, 4, 256, 2.5e-4, 0.1)
    assert (ppo.ent_coef, ppo.vf_coef, ppo.net_arch, ppo.linear_decay) == (0.01, 0.5, [256], True)
    mine = load_config(["task=atari/Breakout", "ppo.learning_rate=0.001", "n_envs=2", "ppo.linear_decay=false"])
    assert (mine.ppo.learning_rate, mine.n_envs, mine.ppo.linear_decay, mine.ppo.n_steps) == (1e-3, 2, False, 128)
    assert load_config(["task=Lift"]).ppo.linear_decay is False and load_config().vec_env == "auto"


def test_linear_decay_schedules_fall_to_zero():
    from wsa_robot.agents import algo_hyperparameters

    hp = algo_hyperparameters(load_config(["task=atari/Pong"]))
    for key, start in (("learning_rate", 2.5e-4), ("clip_range", 0.1)):
        schedule = hp[key]
        assert schedule(1.0) == pytest.approx(start) and schedule(0.5) == pytest.approx(start / 2)
        assert schedule(0.0) == 0.0
    assert algo_hyperparameters(load_config(["algo=ppo"]))["learning_rate"] == 3e-4  # a constant otherwise


def test_any_ale_game_by_id_and_an_unknown_game_is_one_line(capsys):
    task = load_task("atari/Seaquest")  # no YAML: the reference setup, renamed
    assert (task.env_id, task.backend, task.cameras, task.success) == ("ALE/Seaquest-v5", "atari", ["screen"], None)
    assert load_config(["task=atari/Seaquest"]).context == "ae_atari_seaquest@screen"
    assert main(["train", "--task", "atari/Pongg"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown Atari game 'Pongg'" in err and "atari/Pong" in err


def test_ppo_e2e_learns_through_the_pipeline():
    from wsa_robot.agents import build_agent
    from wsa_robot.run.pipeline import make_vec_env, plan

    cfg = load_config(["task=atari/Pong", "fusion=e2e", "n_envs=2", "device=cpu", "total_steps=256"])
    pipe = plan(cfg)
    venv = make_vec_env(pipe, cfg.n_envs, cfg.seed, training=True)
    try:
        model = build_agent(cfg, venv, pipe.token_keys, pipe.context_key, None)
        # SB3 transposes the channel-last stack for NatureCNN, as it does for RGB cameras
        assert model.observation_space["screen"].shape == (4, 84, 84)
        assert model.policy.features_extractor.cnns["screen"].cnn[0].in_channels == 4
        model.learn(256)
        assert model.num_timesteps == 256 and model.lr_schedule(0.5) == pytest.approx(1.25e-4)
    finally:
        venv.close()


def test_a_run_stopped_during_its_last_eval_runs_that_eval_when_resumed(tmp_path):
    """SIGTERM during the eval at the step budget: the checkpoint at the budget is saved, the eval row is not.
    A resume has no steps left to train, yet must run the eval, or the run's curve lacks its end (the bench
    resumes such a run for that)."""
    from wsa_robot.core.atomic import write_json
    from wsa_robot.run.run_dir import RunDir
    from wsa_robot.run.pipeline import plan
    from wsa_robot.run.train import train

    cfg = load_config(["task=atari/Pong", "fusion=e2e", "n_envs=2", "device=cpu", "total_steps=128",
                       "ppo.n_steps=64", "ppo.batch_size=64", "ppo.n_epochs=1", "eval_every=64",
                       "eval_episodes=1", "horizon=200"])
    run = train(RunDir(tmp_path / "run"), plan(cfg), progress=False)
    assert [r["step"] for r in run.read_evals()] == [64, 128]
    write_json(run.evals_file, run.read_evals()[:1])  # the stop cut off the eval at 128
    train(run, plan(cfg), resume=True, progress=False)
    assert [r["step"] for r in run.read_evals()] == [64, 128] and run.checkpoint_step() == 128


def test_a_ppo_run_stopped_mid_rollout_counts_the_steps_it_learned_from_and_ends_at_its_budget(tmp_path,
                                                                                            monkeypatch, capsys):
    """Rollouts of 128 steps (2 envs x 64); a stop comes at step 160, in the second rollout, right after a
    periodic checkpoint. PPO never learns from a rollout cut short, and a resume collects a new one: the
    checkpoint says 128, and the resume ends at the budget of 256. Before, it said 160, and the resume ran a
    whole rollout from there to 288: a run overshot its budget, and its step count grew with each stop."""
    from wsa_robot.run.run_dir import RunDir
    from wsa_robot.run.pipeline import plan
    from wsa_robot.run.train import train

    cfg = load_config(["task=atari/Pong", "fusion=e2e", "n_envs=2", "device=cpu", "total_steps=256",
                       "ppo.n_steps=64", "ppo.batch_size=64", "ppo.n_epochs=1", "eval_every=0",
                       "checkpoint_every=160", "horizon=200"])
    save = RunDir.save_checkpoint
    saved: list[int] = []

    def save_then_stop(self, model, *args, **kwargs):
        save(self, model, *args, **kwargs)
        saved.append(self.checkpoint_step())
        if len(saved) == 1:
            assert model.num_timesteps == 160  # the model trains on from where it is
            raise KeyboardInterrupt  # Ctrl-C right after the periodic checkpoint

    monkeypatch.setattr(RunDir, "save_checkpoint", save_then_stop)
    run = train(RunDir(tmp_path / "run"), plan(cfg), progress=False)
    assert saved == [128, 128] and run.checkpoint_step() == 128
    said = " ".join(capsys.readouterr().out.split())
    assert "stopped at step 128 of 256" in said and "(the 32 steps of the unfinished rollout are not learned" in said
    monkeypatch.undo()
    train(run, plan(cfg), resume=True, progress=False)
    assert run.checkpoint_step() == 256


def test_an_rgb_encoder_on_the_screen_stack_is_a_user_error():
    from wsa_robot.run.pipeline import make_vec_env, plan

    cfg = load_config(["task=atari/Pong", "fusion=wsa", "encoders=ae", "context=ae@screen", "n_envs=1"])
    with pytest.raises(UserError, match="takes 3-channel images but camera screen gives 4"):
        make_vec_env(plan(cfg, "cpu"), 1, 0)


def test_depth_and_segmentation_skills_say_atari_has_no_labels(tmp_home):
    from wsa_robot.pretrain import pretrain

    for skill in ("depth", "segmentation"):
        with pytest.raises(UserError, match=f"skill {skill} learns from .* atari/Pong .*autoencoder, contrastive"):
            pretrain("atari/Pong", skill, frames_per_camera=64, steps=3, out_dir=tmp_home / "assets")


def test_pretrained_atari_autoencoder_drives_a_wsa_run(tmp_home):
    from wsa_robot.encoders.registry import build_encoder
    from wsa_robot.eval.command import eval_run
    from wsa_robot.pretrain import pretrain
    from wsa_robot.run.run_dir import RunDir
    from wsa_robot.run.pipeline import plan
    from wsa_robot.run.train import train

    entry = pretrain("atari/Pong", "autoencoder", frames_per_camera=64, steps=3, batch_size=8, episode_length=16,
                     out_dir=tmp_home / "assets", cache=tmp_home / "frames")
    assert entry["encoder"] == "ae_atari_pong" and entry["in_channels"] == 4 and entry["frames"] == 64
    assert (tmp_home / "assets" / "ae_atari_pong.pt").exists()
    enc = build_encoder("ae_atari_pong")
    with torch.inference_mode():
        assert enc(torch.zeros(2, 84, 84, 4, dtype=torch.uint8)).shape == (2, 128)

    # the autoencoder as the one token and the context of a WSA-PPO run
    cfg = load_config(["task=atari/Pong", "encoders=[ae_atari_pong]", "n_envs=2", "device=cpu", "total_steps=256",
                       "ppo.n_steps=64", "ppo.batch_size=64", "ppo.n_epochs=1", "eval_every=128",
                       "eval_episodes=1", "horizon=200", "checkpoint_every=100000"])
    run = train(RunDir(tmp_home / "run"), plan(cfg), progress=False)
    evals = run.read_evals()
    assert evals and evals[-1]["success_rate"] is None and np.isfinite(evals[-1]["mean_return"])
    rows = eval_run(run, 1, render=False)
    assert rows[0]["success"] is None and 0 < rows[0]["length"] <= 50  # 200 ALE frames: at most 50 steps


def test_an_eval_game_with_no_progress_ends_and_says_it_stalled():
    """Breakout with nobody to press FIRE (StallLimit over the bare game): after the first life is lost nothing
    happens again. The game ends `steps` agent steps later, marked stalled, its score so far reported by the
    Monitor."""
    from gymnasium.wrappers import AtariPreprocessing
    from stable_baselines3.common.monitor import Monitor

    from wsa_robot.envs.atari.env import StallLimit

    env = Monitor(StallLimit(AtariPreprocessing(gym.make("ALE/Breakout-v5", frameskip=1), noop_max=0), 200))
    env.reset(seed=0)
    env.step(1)  # FIRE: the first ball
    for step in range(5000):
        _, _, terminated, truncated, info = env.step(0)  # NOOP forever
        if terminated or truncated:
            break
    assert truncated and not terminated and info.get("stalled") is True and "episode" in info
    assert 200 <= step < 1500 and env.unwrapped.ale.lives() == 4  # one life lost, then 200 idle steps
    env.close()


def test_an_eval_game_of_a_policy_that_never_presses_fire_plays_every_life():
    """Training ends an episode at a lost life and its reset presses FIRE, so a trained Breakout agent may never
    have learnt to relaunch the ball. Its eval game presses FIRE after a lost life as training does: a NOOP
    policy loses all 5 lives and the game ends over, not stalled."""
    from wsa_robot.envs.atari.env import make_atari_env

    env = make_atari_env(load_task("atari/Breakout"), training=False, seed=0, stall_steps=200)
    env.reset()
    for _ in range(5000):
        _, _, terminated, truncated, info = env.step(0)  # NOOP forever
        if terminated or truncated:
            break
    assert terminated and not info.get("stalled") and env.unwrapped.ale.lives() == 0 and "episode" in info
    env.close()


def test_a_game_that_scores_is_never_cut_and_training_envs_have_no_stall_limit():
    from wsa_robot.envs.atari.env import RelaunchAfterLostLife, StallLimit, make_atari_env

    env = make_atari_env(load_task("atari/Pong"), training=False, seed=0, stall_steps=200)
    env.reset()
    rng = np.random.default_rng(0)
    for _ in range(1500):  # Pong's CPU scores on a random player every ~100 steps
        _, _, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
        assert not info.get("stalled")
        if terminated or truncated:
            break
    env.close()

    def wrappers(e):
        while hasattr(e, "env"):
            yield e
            e = e.env
    assert not any(isinstance(w, (StallLimit, RelaunchAfterLostLife))  # training relaunches at its reset
                   for w in wrappers(atari("Breakout", training=True)))



def test_the_eval_table_and_summary_say_which_games_stalled():
    import io

    from rich.console import Console

    from wsa_robot.run.eval_table import episode_table, summary

    rows = [{"episode": 0, "return": 3.0, "success": None, "length": 2411, "stalled": True, "weights": {}},
            {"episode": 1, "return": 12.0, "success": None, "length": 5000, "stalled": False, "weights": {}}]
    console = Console(width=80, file=io.StringIO(), color_system=None)
    console.print(episode_table(rows, [], width=80))
    out = " ".join(console.file.getvalue().split())
    assert summary(rows)["stalled"] == 1 and "2411 stalled" in out and "1 of 2 game(s) stalled" in out
    console.file = io.StringIO()
    console.print(episode_table([rows[1]], [], width=80))
    assert "stalled" not in console.file.getvalue()
