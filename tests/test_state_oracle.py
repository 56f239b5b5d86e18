"""The privileged state oracle (`encoders=state`): the simulator's object state as one vector token, through
the same pipeline, fusion and SAC, with no camera rendered; and the learner's knobs beside it (controller,
reward_scale, sac.target_entropy)."""

import numpy as np
import pytest
import torch
from rich.console import Console

from wsa_robot.agents import build_agent
from wsa_robot.config import load_config
from wsa_robot.run.pipeline import make_vec_env, plan

from helpers import one_line_error

ORACLE = ["encoders=state", "horizon=20", "vec_env=dummy"]


def robosuite_env(venv):
    return venv.venv.envs[0].unwrapped  # EmbeddingVecEnv -> DummyVecEnv -> Monitor -> RobosuiteEnv


def test_registered_and_listed_as_privileged():
    from wsa_robot.encoders.registry import registry
    from wsa_robot.cli.listing import encoders_table

    assert registry()["state"].family == "privileged"
    console = Console(width=300, record=True)
    console.print(encoders_table())
    row = [line for line in console.export_text().splitlines() if line.strip("│ ").startswith("state ")]
    assert row and "PRIVILEGED" in row[0] and "per task" in row[0]


def test_the_oracle_alone_renders_no_camera_and_takes_proprio_as_context():
    pipe = plan(load_config(ORACLE))
    assert pipe.cameras == [] and pipe.token_keys == ["state", "proprio"] and pipe.context_key == "proprio"
    assert pipe.bank.encoders == []
    with_camera = plan(load_config(["encoders=ae,state", "horizon=20"]))  # privileged + cameras: both
    assert with_camera.cameras == ["agentview", "robot0_eye_in_hand"]
    assert with_camera.token_keys == ["ae@agentview", "ae@robot0_eye_in_hand", "state", "proprio"]
    assert with_camera.context_key == "ae@agentview"
    assert plan(load_config(ORACLE + ["context=state"])).context_key == "state"


def test_robosuite_state_is_the_object_state_and_no_renderer_exists():
    cfg = load_config(ORACLE)
    venv = make_vec_env(plan(cfg), 1, 0)
    try:
        obs = venv.reset()
        env = robosuite_env(venv)
        assert env._renderer is None and set(obs) == {"state", "proprio", "token_mask"}
        for _ in range(5):
            obs, *_ = venv.step(np.array([venv.action_space.sample()]))
        state, proprio = obs["state"][0], obs["proprio"][0]
        assert state.shape == (10,)  # Lift's object-state: cube_pos, cube_quat, gripper_to_cube_pos
        sim = env._env.sim
        cube = sim.data.body_xpos[sim.model.body_name2id(env._env.cube.root_body)]
        np.testing.assert_allclose(state[:3], cube, atol=1e-5)
        np.testing.assert_allclose(np.linalg.norm(state[3:7]), 1.0, atol=1e-4)  # a unit quaternion
        np.testing.assert_allclose(state[7:10], cube - proprio[:3], atol=1e-4)  # eef_pos leads proprio
    finally:
        venv.close()


def test_fetch_state_is_the_object_part_of_the_observation():
    from wsa_robot.envs.gym_robotics.env import GymRoboticsEnv
    from wsa_robot.envs.tasks import load_task

    env = GymRoboticsEnv(load_task("fetch/Push"), [], state=True)
    try:
        obs, _ = env.reset(seed=0)
        assert set(obs) == {"proprio", "state", "achieved_goal", "desired_goal"} and env._renderer is None
        obs, *_ = env.step(env.action_space.sample())
        u = env._env.unwrapped
        assert obs["state"].shape == (15,)  # position, relative position, rotation, linear and angular velocity
        np.testing.assert_allclose(obs["state"][:3], u._utils.get_site_xpos(u.model, u.data, "object0"), atol=1e-5)
        np.testing.assert_allclose(obs["state"][:3], obs["achieved_goal"], atol=1e-5)
    finally:
        env.close()


@pytest.mark.parametrize("fusion", ["wsa", "fix"])
def test_sac_learns_from_the_oracle_with_wsa_and_fix(fusion):
    cfg = load_config(ORACLE + [f"fusion={fusion}", "sac.learning_starts=16", "sac.batch_size=8",
                                "sac.net_arch=32,32", "fusion_dim=32"])
    pipe = plan(cfg)
    venv = make_vec_env(pipe, 1, 0)
    try:
        model = build_agent(cfg, venv, pipe.token_keys, pipe.context_key, None)
        model.learn(24)
    finally:
        venv.close()
    assert model.num_timesteps == 24 and model._n_updates > 0
    assert set(model.observation_space.spaces) == {"state", "proprio", "token_mask"}


def test_tasks_without_an_object_refuse_the_oracle_in_one_line(capsys):
    one_line_error(capsys, ["train", "--task", "fetch/Reach", "encoders=state"], "has no object")


def test_osc_position_gives_four_dimensional_actions_and_only_on_robosuite(capsys):
    cfg = load_config(ORACLE + ["controller=osc_position"])
    venv = make_vec_env(plan(cfg), 1, 0)
    try:
        assert venv.action_space.shape == (4,)  # 3-d position deltas + gripper
        venv.reset()
        quat = robosuite_env(venv)._env._get_observations()["robot0_eef_quat"]
        for _ in range(10):
            venv.step(np.array([[1.0, 0.0, 0.0, 0.0]]))
        after = robosuite_env(venv)._env._get_observations()["robot0_eef_quat"]
        assert abs(abs(float(np.dot(quat, after))) - 1.0) < 1e-2  # the hand's orientation is held
    finally:
        venv.close()
    one_line_error(capsys, ["train", "--task", "fetch/Push", "encoders=state", "controller=osc_position"],
                   "robosuite arm controller")


def test_control_freq_sets_the_simulated_time_of_one_step():
    def seconds_per_step(overrides: list[str]) -> float:
        cfg = load_config(ORACLE + overrides)
        venv = make_vec_env(plan(cfg), 1, 0)
        try:
            venv.reset()
            sim = robosuite_env(venv)._env.sim
            start = sim.data.time
            venv.step(np.zeros((1, *venv.action_space.shape), np.float32))
            return sim.data.time - start
        finally:
            venv.close()

    assert seconds_per_step([]) == pytest.approx(1 / 20)  # Lift's own rate
    assert seconds_per_step(["control_freq=10"]) == pytest.approx(1 / 10)


def test_reward_scale_multiplies_the_training_reward_and_never_the_eval_reward():
    def rewards(training: bool) -> list[float]:
        cfg = load_config(ORACLE + ["reward_scale=10"])
        venv = make_vec_env(plan(cfg), 1, 0, training=training)
        try:
            venv.reset()
            rng = np.random.default_rng(0)
            shape = (1, *venv.action_space.shape)
            return [float(venv.step(rng.uniform(-1, 1, shape).astype(np.float32))[1][0]) for _ in range(10)]
        finally:
            venv.close()

    train, evaluation = rewards(True), rewards(False)
    assert any(r > 0 for r in evaluation)
    np.testing.assert_allclose(train, 10 * np.array(evaluation), rtol=1e-5)


def test_target_entropy_reaches_sac():
    cfg = load_config(ORACLE + ["sac.target_entropy=-2.5"])
    pipe = plan(cfg)
    venv = make_vec_env(pipe, 1, 0)
    try:
        assert build_agent(cfg, venv, pipe.token_keys, pipe.context_key, None).target_entropy == -2.5
        auto = load_config(ORACLE)
        assert build_agent(auto, venv, pipe.token_keys, pipe.context_key, None).target_entropy == -float(venv.action_space.shape[0])
    finally:
        venv.close()


def test_critic_layer_norm_trains_and_survives_save_and_load(tmp_path):
    from torch import nn

    from wsa_robot.agents import load_agent

    cfg = load_config(ORACLE + ["sac.critic_layer_norm=true", "sac.learning_starts=20", "sac.batch_size=16"])
    pipe = plan(cfg)
    venv = make_vec_env(pipe, 1, 0)
    try:
        agent = build_agent(cfg, venv, pipe.token_keys, pipe.context_key, None)
        def norms(critic) -> list[nn.LayerNorm]:  # the Q networks' own (the fusion module has its own too)
            return [m for q in critic.q_networks for m in q.modules() if isinstance(m, nn.LayerNorm)]

        assert len(norms(agent.critic)) == 4  # two Q networks, two hidden layers each
        assert len(norms(agent.critic_target)) == 4
        before = [p.detach().clone() for p in norms(agent.critic)[0].parameters()]
        agent.learn(60)
        assert any(not torch.equal(b, p) for b, p in zip(before, norms(agent.critic)[0].parameters()))  # trained
        obs = agent.replay_buffer.sample(8).observations
        actions = torch.zeros(8, venv.action_space.shape[0])
        q = agent.critic(obs, actions)[0]
        agent.save(tmp_path / "model.zip")
        loaded = load_agent(cfg, tmp_path / "model.zip", venv)
        assert len(norms(loaded.critic)) == 4
        torch.testing.assert_close(loaded.critic(obs, actions)[0], q)
        plain = build_agent(load_config(ORACLE + ["sac.critic_layer_norm=false"]), venv, pipe.token_keys,
                            pipe.context_key, None)
        assert norms(plain.critic) == []
    finally:
        venv.close()


def test_bad_values_are_one_line_errors(capsys):
    one_line_error(capsys, ["train", "controller=joint"], "controller")
    one_line_error(capsys, ["train", "reward_scale=0"], "reward_scale")
    one_line_error(capsys, ["train", "sac.target_entropy=high"], "target_entropy")
    one_line_error(capsys, ["train", "sac.n_steps=0"], "n_steps")


def test_an_absolute_gripper_closes_on_one_action_where_robosuites_takes_ten():
    def finger_targets(gripper: str, actions: int) -> np.ndarray:
        cfg = load_config(ORACLE + ["controller=osc_position", f"gripper={gripper}"])
        venv = make_vec_env(plan(cfg), 1, 0)
        try:
            venv.reset()
            for _ in range(actions):
                venv.step(np.array([[0.0, 0.0, 0.0, 1.0]], np.float32))  # close
            return robosuite_env(venv)._env.robots[0].gripper["right"].current_action.copy()
        finally:
            venv.close()

    closed = np.array([-1.0, 1.0])
    np.testing.assert_allclose(finger_targets("absolute", 1), closed)
    np.testing.assert_allclose(finger_targets("binary", 1), closed)
    assert not np.allclose(finger_targets("incremental", 1), closed)  # robosuite's: 0.2 of the way per action
    np.testing.assert_allclose(finger_targets("incremental", 10), closed)


def test_a_binary_gripper_is_open_or_closed_and_an_absolute_one_anything_between():
    cfg = load_config(ORACLE + ["controller=osc_position", "gripper=binary"])
    venv = make_vec_env(plan(cfg), 1, 0)
    try:
        venv.reset()
        gripper = robosuite_env(venv)._env.robots[0].gripper["right"]
        targets = {}
        for a in (-0.5, 0.0, 0.01, 0.5):
            venv.step(np.array([[0.0, 0.0, 0.0, a]], np.float32))
            targets[a] = gripper.current_action.copy()
        np.testing.assert_allclose(targets[-0.5], [1.0, -1.0])  # open
        np.testing.assert_allclose(targets[0.0], [1.0, -1.0])
        np.testing.assert_allclose(targets[0.01], [-1.0, 1.0])  # closed
        np.testing.assert_allclose(targets[0.5], [-1.0, 1.0])
    finally:
        venv.close()
    absolute = load_config(ORACLE + ["controller=osc_position", "gripper=absolute"])
    venv = make_vec_env(plan(absolute), 1, 0)
    try:
        venv.reset()
        venv.step(np.array([[0.0, 0.0, 0.0, 0.5]], np.float32))
        np.testing.assert_allclose(robosuite_env(venv)._env.robots[0].gripper["right"].current_action, [-0.5, 0.5])
    finally:
        venv.close()


def test_gripper_modes_are_robosuite_only(capsys):
    one_line_error(capsys, ["train", "--task", "fetch/Push", "encoders=state", "gripper=absolute"],
                   "gripper=absolute sets how a robosuite gripper takes its action")
