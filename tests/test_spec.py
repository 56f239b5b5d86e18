"""What a run is, decided once (wsa_robot/run/spec.py): `resolve(cfg)` builds no model and makes no env, every
entry point (train, the sweep's check) accepts and refuses the same configs with the same one-line errors,
and a backend registered in one line makes its tasks loadable, trainable and checkable."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from wsa_robot.config import load_config
from wsa_robot.envs.backends import BACKENDS
from wsa_robot.core.errors import UserError
from wsa_robot.core.seeds import bench_seed, eval_seed, periodic_eval_seed
from wsa_robot.run.spec import CAMERA, PIXELS, VECTOR, resolve

from helpers import one_line_error

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def nothing_built(monkeypatch):
    """Every encoder's builder and every backend's make_env raise: resolve must not call them."""
    import wsa_robot.run.spec as spec_module
    from wsa_robot.encoders.registry import registry

    def boom(*args, **kwargs):
        raise AssertionError("resolve built a model or made an env")

    def unbuildable(**kwargs):
        return {name: dataclasses.replace(entry, build=boom) for name, entry in registry(**kwargs).items()}

    monkeypatch.setattr(spec_module, "registry", unbuildable)
    for backend in BACKENDS.values():
        monkeypatch.setattr(type(backend), "make_env", boom)
    monkeypatch.setattr("wsa_robot.encoders.registry.build_encoder", boom)


def test_resolve_builds_nothing_and_holds_the_whole_run(nothing_built):
    spec = resolve(load_config(["task=Lift", "encoders=ae,sim_depth", "seed=3", "demos=null",  # no depth in demos
                                "removed_tokens=[sim_depth@agentview]"]))
    assert spec.task.name == "Lift" and spec.backend is BACKENDS["robosuite"]
    assert spec.cameras == ("agentview", "robot0_eye_in_hand")
    assert spec.token_keys == ["ae@agentview", "ae@robot0_eye_in_hand", "sim_depth@agentview",
                               "sim_depth@robot0_eye_in_hand", "proprio"]
    assert [t.kind for t in spec.tokens] == [CAMERA] * 4 + [VECTOR]
    assert (spec.tokens[2].encoder, spec.tokens[2].camera) == ("sim_depth", "agentview")
    assert spec.context == "ae@agentview" and spec.removed == ("sim_depth@agentview",)
    assert [e.name for e in spec.encoders] == ["ae", "sim_depth"] and spec.depth
    assert (spec.seeds.training, spec.seeds.periodic_eval, spec.seeds.eval, spec.seeds.bench) == \
        (3, periodic_eval_seed(3), eval_seed(3), bench_seed(3))

    gone = resolve(load_config(["task=Lift", "encoders=ae,sim_depth",
                                "removed_tokens=[sim_depth@agentview,sim_depth@robot0_eye_in_hand]"]))
    assert [e.name for e in gone.encoders] == ["ae"] and [e.name for e in gone.idle] == ["sim_depth"]
    assert gone.idle_shapes == {"sim_depth@agentview": (1, 8, 8), "sim_depth@robot0_eye_in_hand": (1, 8, 8)}
    assert not gone.depth  # no encoder the bank runs reads depth: the envs render none

    e2e = resolve(load_config(["task=atari/Pong", "fusion=e2e"]))
    assert e2e.context is None and e2e.encoders == () and [t.kind for t in e2e.tokens] == [PIXELS]

    goal = resolve(load_config(["task=fetch/Reach", "context=desired_goal"]))
    assert goal.context == "desired_goal" and goal.token_keys[-1] == "desired_goal"


def test_a_new_run_builds_its_encoders_once(monkeypatch, in_tmp):
    """`train` plans before making the run dir and hands the pipeline on: the encoders load once."""
    import wsa_robot.run.pipeline as pipeline
    from wsa_robot.cli.commands import main

    builds = []
    real = pipeline.EncoderBank

    def counting(encoders, *args, **kwargs):
        builds.append([e.name for e in encoders])
        return real(encoders, *args, **kwargs)

    monkeypatch.setattr(pipeline, "EncoderBank", counting)
    assert main(["train", "--no-progress", "total_steps=2", "horizon=2", "eval_every=0", "sac.learning_starts=1",
                 "sac.batch_size=2", "fusion_dim=16", "sac.net_arch=[16]"]) == 0
    assert builds == [["ae"]]


def _sweep(tmp: Path, base: str) -> list[str]:
    (tmp / "s.yaml").write_text(f"name: s\nbase: {{{base}}}\ngrid: {{seed: [0]}}\n")
    return ["sweep", str(tmp / "s.yaml"), "--dry-run"]


def test_a_goal_context_passes_as_a_sweep_as_it_does_for_train(in_tmp, capsys):
    """The sweep's check used its own copy of plan(), which knew proprio and camera tokens as contexts but not
    the goal: `context=desired_goal` trained and failed as a sweep."""
    from wsa_robot.cli.commands import main

    assert resolve(load_config(["task=fetch/Reach", "context=desired_goal"])).context == "desired_goal"
    assert main(_sweep(in_tmp, "task: fetch/Reach, context: desired_goal")) == 0, capsys.readouterr().err
    assert "1 trials" in capsys.readouterr().out


@pytest.mark.parametrize("overrides, message", [
    (["cameras=[agentview,topview]"], "unknown camera 'topview' for task Lift"),
    (["faults=[freeze:frontview]"], "camera 'frontview'"),
    (["encoders=ae", "context=ae@frontview"], "context 'ae@frontview' is not a token of this run"),
    (["encoders=[ae,nope]"], "unknown encoder 'nope'; choose one of:"),
    (["removed_tokens=[ae@agentview]"], "ae@agentview is the context token and cannot be removed"),
    (["fusion=e2e", "removed_tokens=[proprio]"], "fusion=e2e learns from pixels and has no encoder tokens"),
    (["task=atari/Pong", "fusion=wsa", "encoders=sim_depth", "context=proprio"],
     "encoder sim_depth needs depth images, which task atari/Pong does not have"),
    (["task=atari/Pong", "fusion=wsa", "encoders=state"], "has no object whose state encoders=state could give"),
    (["task=atari/Pong", "controller=osc_position"], "controller=osc_position chooses a robosuite arm controller"),
    (["task=fetch/Push", "control_freq=10"], "control_freq=10 sets robosuite's control rate"),
    (["task=kitchen/kettle", "reward_shaping=true"], "only its sparse reward"),
    (["task=fetch/Reach", "reward_scale=2"], "learns with HER, which recomputes rewards unscaled"),
])
def test_train_and_sweep_refuse_a_config_with_the_same_error(in_tmp, capsys, nothing_built, overrides, message):
    """plan()'s errors, now resolve's: the same one line from `resolve`, `wsa-robot train` and the sweep's
    check (prefixed with the trial there); nothing is built on the way."""
    with pytest.raises(UserError) as e:
        resolve(load_config(overrides))
    assert message in str(e.value)
    one_line_error(capsys, ["train", *overrides], str(e.value))
    base = ", ".join(f"{k}: {v}" for k, v in (o.split("=", 1) for o in overrides))
    one_line_error(capsys, _sweep(in_tmp, base), f"trial seed=0: {e.value}")


def _readme_backend() -> dict:
    """The minimal backend docs/backends.md's "adding a backend" section shows, run as written."""
    text = (ROOT / "docs" / "backends.md").read_text()
    section = text[text.index("## What a run is, and adding a backend"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "docs/backends.md", "exec"), namespace)
    return namespace


def test_a_backend_registered_in_one_line_makes_its_tasks_loadable(monkeypatch, in_tmp):
    from wsa_robot.envs import make_env
    from wsa_robot.run.pipeline import make_vec_env, plan
    from wsa_robot.envs.tasks import load_task

    toy = _readme_backend()["ToyBackend"]
    with pytest.raises(UserError, match="unknown task 'toy/Blink'"):
        load_task("toy/Blink")
    monkeypatch.setitem(BACKENDS, "toy", toy())  # the one line

    task = load_task("toy/Blink")
    assert task.backend == "toy"
    env = make_env(task, ["eye"], 8, seed=0)
    obs, _ = env.reset(seed=0)
    assert obs["eye"].shape == (8, 8, 3) and obs["proprio"].shape == (1,)
    with pytest.raises(UserError, match="task toy/Blink has no depth images"):
        make_env(task, ["eye"], 8, depth=True)
    with pytest.raises(UserError, match="unknown camera 'nose' for task toy/Blink; available: eye"):
        resolve(load_config(["task=toy/Blink", "cameras=[nose]"]))
    with pytest.raises(UserError, match="task toy/Blink .toy. has no visual variations yet"):
        make_env(task, ["eye"], 8, variation="table_color")

    cfg = load_config(["task=toy/Blink", "horizon=3"])
    spec = resolve(cfg)
    assert spec.backend is BACKENDS["toy"] and spec.token_keys == ["eye", "proprio"]
    venv = make_vec_env(plan(spec, "cpu"), 1, spec.seeds.training)
    try:
        obs = venv.reset()
        for _ in range(3):
            obs, reward, done, _ = venv.step(np.array([[0.5]], np.float32))
        assert done[0] and obs["eye"].shape == (1, 84, 84, 3)
    finally:
        venv.close()


def test_every_env_key_reaches_the_runs_env_options_by_its_name(nothing_built):
    """A config key named as a RunOptions field reaches every env of the run with no line of its own in resolve
    (issue 37: an env key costs the config, RunOptions and the backend that reads it)."""
    from wsa_robot.envs.backends.base import RunOptions

    config_keys = set(type(load_config()).model_fields)
    shared = [f.name for f in dataclasses.fields(RunOptions) if f.name in config_keys]
    assert {"reward_shaping", "controller", "control_freq", "gripper", "horizon", "reward_scale"} <= set(shared)
    spec = resolve(load_config(["controller=osc_position", "control_freq=10", "gripper=binary", "horizon=77",
                                "reward_scale=2.5", "reward_shaping=false"]))
    assert {k: getattr(spec.env, k) for k in shared} == {k: getattr(spec.cfg, k) for k in shared}
    assert (spec.env.controller, spec.env.control_freq, spec.env.gripper, spec.env.horizon, spec.env.reward_scale,
            spec.env.reward_shaping) == ("osc_position", 10, "binary", 77, 2.5, False)
