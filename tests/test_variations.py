"""Visual variations of robot tasks: each changes pixels and never physics, is reproducible from its seed,
and `wsa-robot eval RUN --variations all` compares them in one table."""

import json
from pathlib import Path

import numpy as np
import pytest

from wsa_robot.cli.commands import main
from wsa_robot.envs import make_env
from wsa_robot.envs.robosuite.env import SEGMENT_CLASSES, RobosuiteEnv
from wsa_robot.envs.task_variations import variations_for
from wsa_robot.envs.variations import INTACT
from wsa_robot.core.errors import UserError
from wsa_robot.envs.tasks import load_task

from helpers import train_tiny_lift

TASK = load_task("Lift")
NAMES = list(variations_for(TASK))
ACTIONS = np.random.default_rng(0).uniform(-1, 1, size=(4, 7)).astype(np.float32)  # fixed, the same for all
OBJECT = SEGMENT_CLASSES.index("object")


@pytest.fixture(scope="module")
def env():
    e = RobosuiteEnv(TASK, TASK.cameras, 84, seed=0, segmentation=True)
    yield e
    e.close()


def rollout(env, spec):
    """First frames, then proprio and reward after each of the fixed actions, from env seed 0."""
    env.set_variation(spec)
    obs, _ = env.reset(seed=0)
    frames = {c: obs[c].copy() for c in TASK.cameras}
    seg = {c: obs[f"{c}_seg"][..., 0].copy() for c in TASK.cameras}
    proprio, rewards = [obs["proprio"]], []
    for a in ACTIONS:
        obs, r, *_ = env.step(a)
        proprio.append(obs["proprio"])
        rewards.append(r)
    return frames, seg, np.array(proprio), np.array(rewards)


@pytest.fixture(scope="module")
def intact(env):
    return rollout(env, None)


def diff(a, b):
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize("name", NAMES)
def test_variation_changes_pixels_never_physics_and_is_seeded(env, intact, name):
    frames, seg, proprio, rewards = rollout(env, name)
    base_frames, base_seg, base_proprio, base_rewards = intact
    change = {c: diff(frames[c], base_frames[c]) for c in TASK.cameras}
    assert max(change.values()) > 0.2, change  # visible in at least one default camera
    # physics untouched: the same actions give the same states and rewards, bit for bit
    assert np.array_equal(proprio, base_proprio) and np.array_equal(rewards, base_rewards)
    if name.startswith("object_"):  # the change is on the object, not elsewhere
        for c in TASK.cameras:
            changed = (frames[c] != base_frames[c]).any(-1)
            assert (seg[c] == base_seg[c]).all()  # where things are did not move
            if changed.any():
                assert (base_seg[c][changed] == OBJECT).mean() > 0.8, c
    again, *_ = rollout(env, name)  # reproducible: the same spec draws the same change
    assert all(np.array_equal(again[c], frames[c]) for c in TASK.cameras)
    if variations_for(TASK)[name].seeded:
        other, *_ = rollout(env, f"{name}:1")
        assert max(diff(other[c], frames[c]) for c in TASK.cameras) > 0.2
    else:
        with pytest.raises(UserError, match="same for every seed"):
            env.set_variation(f"{name}:1")


def test_intact_comes_back_and_a_variation_lasts_across_resets(env, intact):
    env.set_variation("table_texture:2")  # paints a texture, which must be restored afterwards
    model = env._env.sim.model._model
    painted = np.array(model.tex_data)
    first, _ = env.reset(seed=0)
    for seed in (1, 2):
        env.reset(seed=seed)
    again, _ = env.reset(seed=0)
    assert np.array_equal(model.tex_data, painted)  # robosuite's reset (hard_reset=False) keeps the model
    assert all(np.array_equal(first[c], again[c]) for c in TASK.cameras)
    assert diff(first["agentview"], intact[0]["agentview"]) > 5
    env.set_variation(INTACT)
    obs, _ = env.reset(seed=0)
    assert all(np.array_equal(obs[c], intact[0][c]) for c in TASK.cameras)


def test_made_with_a_variation_equals_switched_to_it(env):
    fresh = make_env(TASK, TASK.cameras, 84, seed=0, variation="object_texture:3")
    try:
        made, _ = fresh.reset(seed=0)
    finally:
        fresh.close()
    switched, *_ = rollout(env, "object_texture:3")
    assert all(np.array_equal(made[c], switched[c]) for c in TASK.cameras)


def test_bad_variations_are_user_errors():
    with pytest.raises(UserError, match="unknown variation 'tabel_color'; choose one of: intact, table_color") as e:
        make_env(TASK, TASK.cameras, 84, variation="tabel_color")
    assert "\n" not in str(e.value)
    with pytest.raises(UserError, match="NAME:SEED"):
        make_env(TASK, TASK.cameras, 84, variation="table_color:red")
    pong = load_task("atari/Pong")  # Atari games have HackAtari's variations (tests/test_atari_variations.py)
    with pytest.raises(UserError, match="unknown variation .table_color.; choose one of: intact, .*lazy_enemy"):
        make_env(pong, [], 84, variation="table_color")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("variations") / "run"
    train_tiny_lift(run, horizon=5)
    return run


def test_eval_variations_all_prints_intact_first_and_writes_json(tiny_run, capsys):
    capsys.readouterr()
    assert main(["eval", str(tiny_run), "--variations", "all", "--episodes", "1"]) == 0
    out = capsys.readouterr().out
    names = {INTACT, *NAMES}  # the table's rows start with the condition's name (no borders: tables.py)
    lines = [line for line in out.splitlines() if line.split() and line.split()[0] in names]
    assert [line.split()[0] for line in lines] == [INTACT, *NAMES]
    assert "±" in lines[0] and "%" in lines[0]
    rows = json.loads((Path(tiny_run) / "variations.json").read_text())["variations"]
    assert [r["variation"] for r in rows] == [INTACT, *NAMES]
    assert all(r["episodes"] == 1 and 0.0 <= r["success_rate"] <= 1.0 and r["mean_length"] == 5 for r in rows)
    # the same episodes (same env seed, deterministic policy): only what the agent sees differs
    assert len({round(r["mean_return"], 12) for r in rows}) > 1


def test_eval_one_variation_and_its_errors(tiny_run, capsys):
    assert main(["eval", str(tiny_run), "--variation", "camera_shift:4", "--episodes", "1"]) == 0
    assert "under variation camera_shift:4" in capsys.readouterr().out
    assert json.loads((Path(tiny_run) / "eval_summary.json").read_text())["variation"] == "camera_shift:4"
    assert main(["eval", str(tiny_run), "--variation", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown variation 'nope'; choose one of: intact,") and err.count("\n") == 1
    assert main(["eval", str(tiny_run), "--variations", "all", "--variation", "lighting_dim"]) == 2
