"""Domain randomisation (config `train_variations`, envs/visual_mix.py): the envs an agent learns from show a
new visual variation every episode, drawn from the named kinds less the held-out one, with variation seeds no
evaluation uses; evaluation envs stay intact; a mistake is one line before anything is made."""

from __future__ import annotations

import pytest

from wsa_robot.config import load_config
from wsa_robot.core.errors import UserError
from wsa_robot.run.spec import resolve

LIFT = ["task=Lift", "fusion=e2e", "image_size=32", "cameras=[agentview]", "horizon=4"]


def test_the_mix_is_the_named_kinds_less_the_held_out_one():
    spec = resolve(load_config([*LIFT, "train_variations=all", "train_hold_out=table_texture"]))
    mix = spec.env.visual_mix
    assert "table_texture" not in mix.kinds and "table_color" in mix.kinds and mix.held_out == "table_texture"
    assert resolve(load_config(LIFT)).env.visual_mix is None
    two = resolve(load_config([*LIFT, "train_variations=[table_color,lighting_dim]"])).env.visual_mix
    assert two.kinds == ("table_color", "lighting_dim") and two.unseeded == ("lighting_dim",)


@pytest.mark.parametrize("overrides, message", [
    (["train_variations=[tabel_color]"], r"unknown variation 'tabel_color' for Lift in train_variations"),
    (["train_hold_out=table_texture"], r"add train_variations=\[all\]"),
    (["train_variations=[table_color]", "train_hold_out=table_color"], "leaves no variation"),
])
def test_a_bad_mix_is_one_line(overrides, message):
    with pytest.raises(UserError, match=message):
        resolve(load_config([*LIFT, *overrides]))


def test_a_task_without_switchable_variations_refuses_a_mix():
    with pytest.raises(UserError, match="no visual variations that change from episode to episode; drop "
                                        "train_variations"):
        resolve(load_config(["task=atari/Breakout", "train_variations=all"]))


def test_training_envs_change_variation_every_episode_and_eval_envs_stay_intact():
    from wsa_robot.run.pipeline import make_vec_env, plan

    pipe = plan(resolve(load_config([*LIFT, "train_variations=all", "train_hold_out=table_texture"])), "cpu")
    shown = {}
    for training in (True, False):
        venv = make_vec_env(pipe, 1, 0, training=training)
        try:
            seen = []
            for _ in range(8):  # 8 episodes of 4 steps: a reset each
                venv.reset()
                seen.append(venv.env_method("get_wrapper_attr", "variation")[0])
            shown[training] = seen
        finally:
            venv.close()
    varied = [v for v in shown[True] if v != "intact"]
    assert len(set(shown[True])) >= 4, shown[True]
    assert not any(v.startswith("table_texture") for v in varied)  # the held-out kind is never shown
    seeds = [int(v.split(":")[1]) for v in varied if ":" in v]
    assert seeds and all(1000 <= s < 2000 for s in seeds)  # never an evaluation's variation seed
    assert set(shown[False]) == {"intact"}
