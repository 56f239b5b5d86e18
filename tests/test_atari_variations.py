"""HackAtari modifications as the Atari backend's visual variations: same observation format, changed frames,
the same game underneath, and names checked (HackAtari itself ignores unknown ones)."""

import numpy as np
import pytest

from wsa_robot.envs import make_env
from wsa_robot.envs.atari.variations import CURATED, modifications
from wsa_robot.envs.task_variations import expand, variations_for
from wsa_robot.envs.variations import INTACT
from wsa_robot.core.errors import UserError
from wsa_robot.envs.tasks import load_task

BREAKOUT = load_task("atari/Breakout")
BALL_X, BALL_Y = 99, 101  # Breakout's RAM: the ball (hackatari/games/breakout.py)


def rollout(variation, steps=80, seed=3):
    env = make_env(BREAKOUT, ["screen"], 84, seed=seed, variation=variation)
    try:
        space = env.observation_space["screen"]
        obs, _ = env.reset()
        rng = np.random.default_rng(0)
        frames, ball = [obs["screen"]], []
        for _ in range(steps):
            obs, *_ = env.step(int(rng.integers(env.action_space.n)))
            frames.append(obs["screen"])
            ram = env.unwrapped.ale.getRAM()
            ball.append((int(ram[BALL_X]), int(ram[BALL_Y])))
        return space, np.stack(frames), ball
    finally:
        env.close()


def test_a_colour_changes_the_frames_not_the_game_nor_the_format():
    space, intact, ball = rollout(None)
    hacked_space, hacked, hacked_ball = rollout("color_all_blocks_blue")
    assert hacked_space == space and space.shape == (84, 84, 4) and space.dtype == np.uint8
    assert hacked.shape == intact.shape and hacked.dtype == np.uint8
    changed = (hacked != intact).mean()
    assert changed > 0.05, changed  # the wall of blocks is a large part of the screen
    assert ball == hacked_ball  # same seed and actions: same no-ops, same ball


def test_unknown_names_are_one_line_listing_the_games_own():
    with pytest.raises(UserError) as e:
        make_env(BREAKOUT, ["screen"], 84, variation="color_blocks_purple")
    msg = str(e.value)
    assert "\n" not in msg and "unknown variation 'color_blocks_purple'" in msg
    assert "color_all_blocks_blue" in msg and "right_drift" in msg and "table_color" not in msg
    with pytest.raises(UserError, match="same for every seed"):
        make_env(BREAKOUT, ["screen"], 84, variation="right_drift:2")
    with pytest.raises(UserError, match="no modifications for Alien; games it covers: .*breakout") as e:
        make_env(load_task("atari/Alien"), ["screen"], 84, variation="right_drift")
    assert "\n" not in str(e.value)


def test_names_are_what_hackatari_applies():
    from hackatari import HackAtari

    names = modifications("Breakout")
    assert {"color_player_and_ball_red", "color_all_blocks_blue", "right_drift", "gravity"} <= set(names)
    assert set(modifications("Pong")) == {"lazy_enemy", "up_drift", "down_drift", "left_drift", "right_drift"}
    env = HackAtari("ALE/Breakout-v5", modifs=["no_such_modification"], obs_mode="ori", create_buffer_stacks=[])
    assert not env.step_modifs  # why the names are checked here: HackAtari ignores this one silently
    env.close()


def test_all_is_intact_then_the_curated_list():
    assert expand(BREAKOUT, "all") == [INTACT, *CURATED["Breakout"]]
    pong = load_task("atari/Pong")
    assert expand(pong, "all") == [INTACT, *CURATED["Pong"]]
    assert expand(pong, "left_drift,intact") == [INTACT, "left_drift"]  # any valid name, beyond "all"
    assert all(v.description.startswith("HackAtari: ") for v in variations_for(pong).values())


def test_eval_of_an_atari_run_under_variations(tmp_path, capsys):
    import json

    from wsa_robot.cli.commands import main

    run = tmp_path / "run"
    assert main(["train", "task=atari/Breakout", "n_envs=1", "device=cpu", "total_steps=64", "ppo.n_steps=64",
                 "ppo.batch_size=64", "ppo.n_epochs=1", "eval_every=0", "horizon=120",
                 "checkpoint_every=100000", f"run_dir={run}", "--no-progress"]) == 0
    from wsa_robot.encoders.bank import native_bf16_cpu

    said = capsys.readouterr().out  # the task's encoder_precision=auto, resolved for this machine
    assert f"frozen encoders in {'bf16' if native_bf16_cpu() else 'fp32'} (encoder_precision=auto" in said
    assert main(["eval", str(run), "--variations", "color_all_blocks_blue,right_drift", "--episodes", "1"]) == 0
    rows = json.loads((run / "variations.json").read_text())["variations"]
    assert [r["variation"] for r in rows] == [INTACT, "color_all_blocks_blue", "right_drift"]
    assert all(np.isfinite(r["mean_return"]) for r in rows)
    capsys.readouterr()
    assert main(["eval", str(run), "--variation", "colour_all_blocks_blue"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "color_all_blocks_blue" in err
