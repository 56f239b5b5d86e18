from pathlib import Path

import pytest

from wsa_robot.config import dump_config, load_config, read_run_config
from wsa_robot.core.errors import UserError


def test_defaults_load_and_overrides_apply():
    cfg = load_config(["algo=ppo", "fusion=fix", "encoders=ae,depth_rgb", "seed=3", "total_steps=20000", "n_envs=2",
                       "sac.batch_size=64", "render.shadows=true"])
    assert (cfg.algo, cfg.fusion, cfg.seed, cfg.total_steps, cfg.n_envs) == ("ppo", "fix", 3, 20000, 2)
    assert cfg.encoders == ["ae", "depth_rgb"] and cfg.sac.batch_size == 64 and cfg.render.shadows is True


def test_config_round_trips_through_yaml(tmp_path):
    cfg = load_config(["seed=7", "cameras=agentview"])
    path = tmp_path / "config.yaml"
    path.write_text(dump_config(cfg))
    assert read_run_config(path) == cfg


@pytest.mark.parametrize("item, expected", [
    ("sac.batch_sise=3", "did you mean sac.batch_size"),
    ("seedd=1", "did you mean seed"),
    ("no_equals_sign", "write key=value"),
    ("=3", "write key=value"),
    ("seed=abc", "bad value for seed"),
    ("algo=dqn", "bad value for algo"),
    ("render.shadows=maybe", "bad value for render.shadows"),
    ("n_envs=0", "bad value for n_envs: .*greater than or equal to 1"),
    ("torch_threads=-1", "bad value for torch_threads: .*greater than or equal to 0"),
    ("sac.batch_size=0", "bad value for sac.batch_size"),
    ("ppo.n_steps=0", "bad value for ppo.n_steps"),
])
def test_bad_overrides_name_the_problem(item, expected):
    with pytest.raises(UserError, match=expected):
        load_config([item])


def test_a_run_config_from_an_older_version_still_loads(tmp_path):
    import yaml

    old = yaml.safe_load(dump_config(load_config(["seed=7"])))
    del old["reward_shaping"], old["render"]["shadows"]  # keys the schema gained after this run started
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(old))
    cfg = read_run_config(path)
    assert cfg.seed == 7 and cfg.reward_shaping is None and cfg.render.shadows is False


def test_task_defaults_apply_under_the_users_overrides(tmp_path, monkeypatch):
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "Quick.yaml").write_text(
        "name: Quick\nbackend: robosuite\nenv_id: Lift\ncameras: [agentview]\navailable_cameras: [agentview]\n"
        "horizon: 10\nsuccess: env._check_success()\nconfig: {algo: ppo, n_envs: 4, ppo: {n_steps: 64}}\n")
    for name in ("configs", "assets"):
        (tmp_path / name).symlink_to(Path(__file__).resolve().parent.parent / name)
    monkeypatch.setenv("WSA_ROBOT_HOME", str(tmp_path))
    cfg = load_config(["task=Quick", "n_envs=2"])
    assert (cfg.algo, cfg.n_envs, cfg.ppo.n_steps, cfg.ppo.batch_size) == ("ppo", 2, 64, 256)
    monkeypatch.delenv("WSA_ROBOT_HOME")
    assert load_config().algo == "sac"  # Lift keeps the global defaults


def test_a_tasks_demos_serve_sac_and_a_ppo_run_takes_its_other_defaults_without_them():
    """Lift learns from 5 scripted demos and starts half its episodes along them by default (tasks/Lift.yaml);
    demos need a replay buffer, so `algo=ppo` takes Lift's other defaults (its controller) without them, where
    it would otherwise be refused. Demos the user names with PPO are kept, so the refusal can say so."""
    sac, ppo = load_config(["task=Lift"]), load_config(["task=Lift", "algo=ppo"])
    assert (sac.demos, sac.demos_n, sac.demo_starts) == ("scripted", 5, 0.5)
    assert (ppo.demos, ppo.demos_n, ppo.demo_starts) == (None, 0, 0.0)
    assert ppo.controller == sac.controller == "osc_position"
    assert load_config(["task=Lift", "algo=ppo", "demos=scripted"]).demos == "scripted"
    # the user's own demos (a file, or none) take the task's count and curriculum with the task's recording
    for named in ("demos=theirs.hdf5", "demos=null"):
        own = load_config(["task=Lift", named])
        assert (own.demos_n, own.demo_starts) == (0, 0.0), named
    fewer = load_config(["task=Lift", "demos=scripted", "demos_n=3"])  # the task's recording, fewer of them
    assert (fewer.demos, fewer.demos_n, fewer.demo_starts) == ("scripted", 3, 0.5)


@pytest.mark.parametrize("fusion, missing, trained_with", [
    ("wsa", "wsa_scorer", "linear"),   # the default before additive attention
    ("lin", "lin_context", True),      # LIN concatenated the context before the key existed
    ("fix", "lin_context", False),     # a key its fusion never read: today's default, nothing to keep
    ("dpa", "wsa_scorer", "additive"),
])
def test_a_saved_run_without_a_newer_key_keeps_what_it_was_trained_with(tmp_path, fusion, missing, trained_with):
    import yaml

    cfg = load_config([f"fusion={fusion}"])
    data = cfg.model_dump()
    del data[missing]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    assert getattr(read_run_config(path), missing) == trained_with
    assert getattr(load_config([f"fusion={fusion}"]), missing) == {"wsa_scorer": "additive",
                                                                    "lin_context": False}[missing]


def test_a_saved_key_always_wins(tmp_path):
    cfg = load_config(["fusion=wsa", "wsa_scorer=relu", "lin_context=true"])
    path = tmp_path / "config.yaml"
    path.write_text(dump_config(cfg))
    assert read_run_config(path) == cfg
