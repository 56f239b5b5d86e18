"""The gymnasium-robotics backend: Fetch (goal tasks, HER) and FrankaKitchen through named cameras; a HER + WSA
SAC run through the real pipeline on an autoencoder pretrained here in the real format (tiny budgets, a
temporary assets folder), eval --render on it, and the one-line errors."""

from pathlib import Path

import mujoco
import numpy as np
import pytest

from wsa_robot.config import load_config
from wsa_robot.envs import make_env, supports_depth
from wsa_robot.envs.gl import gl_context
from wsa_robot.envs.tasks import load_task

from helpers import one_line_error

ROOT = Path(__file__).resolve().parent.parent
FETCH = ["fetch/Reach", "fetch/Push", "fetch/PickAndPlace", "fetch/Slide"]


def fetch(name: str = "fetch/Push", cameras=None, **kwargs):
    task = load_task(name)
    return make_env(task, cameras or task.cameras, 84, seed=0, **kwargs)


@pytest.mark.parametrize("name", FETCH)
def test_fetch_tasks_give_two_upright_cameras_proprio_and_goals(name):
    env = fetch(name, depth=True)
    try:
        obs, info = env.reset(seed=0)
        assert env.observation_space.contains(obs) and info["is_success"] is False
        assert env.unwrapped.task.cameras == ["external_camera_0", "gripper"] and supports_depth(env.task)
        for cam in ("external_camera_0", "gripper"):
            img = obs[cam]
            assert img.shape == (84, 84, 3) and img.dtype == np.uint8
            assert 20 < img.mean() < 250  # not a black (or blank) frame: one black sequence was seen once
            assert obs[f"{cam}_depth"].shape == (84, 84, 1) and np.isfinite(obs[f"{cam}_depth"]).all()
        # the front view is upright: green sky above, the grey floor and white table below
        green = obs["external_camera_0"][..., 1].astype(float) - obs["external_camera_0"][..., 0]
        assert green[:10].mean() > 30 and green[-25:].mean() < 10
        assert 0.6 < float(np.median(obs["external_camera_0_depth"])) < 2.0  # metres to the table
        assert float(np.median(obs["gripper_depth"])) < float(np.median(obs["external_camera_0_depth"]))
        assert obs["proprio"].shape == (10,) and obs["achieved_goal"].shape == obs["desired_goal"].shape == (3,)
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert reward in (-1.0, 0.0) and not terminated and env.observation_space.contains(obs)
    finally:
        env.close()


@pytest.mark.parametrize("name", ["fetch/Slide", "kitchen/microwave"])
def test_every_listed_camera_renders(name):
    task = load_task(name)
    env = make_env(task, task.available_cameras, 32, seed=0)
    try:
        obs, _ = env.reset(seed=0)
        assert all(obs[c].shape == (32, 32, 3) and 10 < obs[c].mean() < 250 for c in task.available_cameras)
    finally:
        env.close()


def test_images_are_upright_against_mujocos_own_renderer(monkeypatch):
    env = fetch("fetch/PickAndPlace", quality={"shadows": True, "reflections": True, "multisample": False})
    try:
        obs, _ = env.reset(seed=1)
        u = env._env.unwrapped
        # mujoco.Renderer makes a mujoco.gl_context.GLContext, the class fixed when this process first imported
        # mujoco (at test collection, before any backend was chosen): it gets the chosen backend's, as ours does
        monkeypatch.setattr(mujoco.gl_context, "GLContext", gl_context)
        theirs = mujoco.Renderer(u.model, 84, 84)
        option = mujoco.MjvOption()
        option.sitegroup[:] = 0  # the goal marker is hidden from the agent
        theirs.update_scene(u.data, camera="external_camera_0", scene_option=option)
        ref = theirs.render().astype(float)  # mujoco.Renderer returns upright images
        theirs.close()
        ours = obs["external_camera_0"].astype(float)
        assert np.abs(ours - ref).mean() < 3.0 < np.abs(ours - np.flipud(ref)).mean()
    finally:
        env.close()


def test_proprio_leaves_the_object_to_the_cameras():
    env = fetch("fetch/Push")
    try:
        obs, _ = env.reset(seed=2)
        u = env._env.unwrapped
        full = u._get_obs()["observation"].astype(np.float32)
        # grip_pos (0:3), gripper_state (9:11), grip_velp (20:23), gripper_vel (23:25) of Fetch's 25-vector
        assert np.allclose(obs["proprio"], full[[0, 1, 2, 9, 10, 20, 21, 22, 23, 24]])
        block = full[3:6]
        assert np.allclose(obs["achieved_goal"], block)  # HER reads the block's position; the policy does not
        assert not np.isin(np.round(block, 5), np.round(obs["proprio"], 5)).any()
    finally:
        env.close()


def test_success_is_sticky_and_rewards_match_the_envs_own():
    from wsa_robot.envs.goal import GoalRewardVecEnv
    from stable_baselines3.common.vec_env import DummyVecEnv

    env = fetch("fetch/Reach")
    try:
        obs, _ = env.reset(seed=0)
        u = env._env.unwrapped
        u.goal = obs["achieved_goal"].astype(np.float64).copy()  # the goal where the gripper is
        obs, reward, *_, info = env.step(np.zeros(4, np.float32))
        assert reward == 0.0 and info["success_now"] and info["is_success"]
        assert np.allclose(obs["desired_goal"], u.goal)
        u.goal = u.goal + 0.3  # now far away: not a success any more, but the episode has succeeded
        _, reward, *_, info = env.step(np.zeros(4, np.float32))
        assert reward == -1.0 and not info["success_now"] and info["is_success"]
        rng = np.random.default_rng(0)
        achieved, desired = rng.uniform(1.0, 1.2, (64, 3)), rng.uniform(1.0, 1.2, (64, 3))
        own = u.compute_reward(achieved, desired, None)
        assert set(np.unique(own)) == {-1.0, 0.0}
        assert np.array_equal(env.compute_reward(achieved, desired, None), own)
        venv = GoalRewardVecEnv(DummyVecEnv([lambda: env]))  # HER's call, answered without the env
        assert np.array_equal(venv.env_method("compute_reward", achieved, desired, [{}] * 64, indices=[0])[0], own)
    finally:
        env.close()


def test_kitchen_cameras_proprio_and_its_success_signal():
    task = load_task("kitchen/microwave")
    assert task.cameras == ["overview", "wrist"] and not task.goal
    env = make_env(task, task.cameras, 64, seed=0)
    try:
        obs, _ = env.reset(seed=0)
        assert set(obs) == {"overview", "wrist", "proprio"} and obs["proprio"].shape == (18,)
        for cam in task.cameras:
            assert obs[cam].shape == (64, 64, 3) and 20 < obs[cam].mean() < 250
        # overview is upright: the dark sky is at the top of the frame
        assert obs["overview"][:8].mean() < obs["overview"][-8:].mean()
        u = env._env.unwrapped
        u.data.qpos[22] = -0.75  # the microwave door open, as its goal
        mujoco.mj_forward(u.model, u.data)
        _, reward, terminated, _, info = env.step(np.zeros(9, np.float32))
        assert reward == 1.0 and terminated and info["is_success"]
    finally:
        env.close()
    assert load_task("kitchen/light_switch+kettle").env_kwargs["tasks_to_complete"] == ["light switch", "kettle"]
    assert len(load_task("kitchen/all").env_kwargs["tasks_to_complete"]) == 7


def test_fetch_tasks_default_to_the_shipped_encoder_with_her_settings():
    from wsa_robot.run.pipeline import plan

    cfg = load_config(["task=fetch/PickAndPlace", "device=cpu"])
    assert cfg.encoders == ["ae_fetch_pickandplace"] and cfg.context == "ae_fetch_pickandplace@external_camera_0"
    assert (cfg.sac.gamma, cfg.sac.learning_rate) == (0.95, 1e-3)
    pipe = plan(cfg, "cpu")  # the shipped weights load (sha256 checked) and stay frozen
    assert pipe.token_keys == ["ae_fetch_pickandplace@external_camera_0", "ae_fetch_pickandplace@gripper",
                               "proprio", "desired_goal"]
    assert pipe.vector_keys == ["proprio", "achieved_goal", "desired_goal"]
    enc = pipe.bank.encoders[0]
    assert not enc.training and not any(p.requires_grad for p in enc.parameters())
    assert plan(load_config(["task=fetch/Reach", "context=desired_goal"]), "cpu").context_key == "desired_goal"


@pytest.fixture(scope="module")
def her_run(tmp_path_factory):
    """A HER + WSA SAC run of fetch/Reach on an autoencoder pretrained here (tiny budgets), through the same
    train() as `wsa-robot train`, with a temporary assets folder."""
    from wsa_robot.pretrain import pretrain
    from wsa_robot.run.run_dir import RunDir
    from wsa_robot.run.pipeline import plan
    from wsa_robot.run.train import train

    home = tmp_path_factory.mktemp("home")
    for name in ("tasks", "configs"):
        (home / name).symlink_to(ROOT / name)
    (home / "assets").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WSA_ROBOT_HOME", str(home))
        mp.chdir(home)
        entry = pretrain("fetch/Reach", "autoencoder", frames_per_camera=24, steps=2, batch_size=8,
                         episode_length=6, out_dir=home / "assets", cache=home / "frames")
        assert entry["encoder"] == "ae_fetch_reach" and entry["cameras"] == ["external_camera_0", "gripper"]
        # updates overlapping env steps in a subprocess: HER's rewards must not use its pipe
        cfg = load_config(["task=fetch/Reach", "sac.overlap=true", "encoders=ae_fetch_reach", "context=ae_fetch_reach@external_camera_0",
                           "device=cpu", "total_steps=160", "sac.learning_starts=60", "sac.batch_size=32",
                           "sac.buffer_size=1000", "eval_every=160", "eval_episodes=1", "checkpoint_every=100000",
                           "horizon=10"])
        run = train(RunDir(home / "run"), plan(cfg), progress=False)
    return cfg, run, home


@pytest.fixture
def in_her_home(her_run, monkeypatch):
    """The HER run, with its temporary assets folder as the project's for this test."""
    cfg, run, home = her_run
    monkeypatch.setenv("WSA_ROBOT_HOME", str(home))
    monkeypatch.chdir(home)
    return cfg, run


def test_her_wsa_sac_learns_through_the_pipeline(in_her_home):
    from stable_baselines3 import HerReplayBuffer
    from wsa_robot.run.replay_file import load_replay

    from wsa_robot.agents import load_agent
    from wsa_robot.envs.gym_robotics.env import fetch_reward
    from wsa_robot.run.pipeline import plan

    cfg, run = in_her_home
    evals = run.read_evals()
    assert evals[-1]["step"] == 160 and evals[-1]["success_rate"] in (0.0, 1.0)
    model = load_agent(cfg, run.model_file, None)
    assert model.num_timesteps == 160 and set(model.observation_space.spaces) == {
        "ae_fetch_reach@external_camera_0", "ae_fetch_reach@gripper", "proprio", "achieved_goal",
        "desired_goal", "token_mask"}
    assert model.observation_space["desired_goal"].shape == (3,)  # a raw vector, not an embedding
    buffer = load_replay(run.replay_file)
    assert isinstance(buffer, HerReplayBuffer) and buffer.n_sampled_goal == 4
    assert buffer.pos == 160 and "external_camera_0" not in buffer.observations  # embeddings, never pixels
    goals = buffer.observations["desired_goal"][:160, 0]
    assert 0.3 < goals[:, 2].mean() < 1.0 and len(np.unique(goals[:, 0])) == 16  # one goal per 10-step episode
    assert buffer.ep_length[:160, 0].max() == 10  # HER knows where each episode ends

    class Rewards:  # what GoalRewardVecEnv answers, without an env
        def env_method(self, name, achieved, desired, infos, indices=None):
            return [fetch_reward(achieved, desired, distance_threshold=0.05, reward_type="sparse")]

    buffer.set_env(Rewards())
    batch = buffer.sample(256)
    assert set(np.unique(batch.rewards.numpy())) == {-1.0, 0.0}  # relabelled goals reached, real ones missed
    assert batch.observations["ae_fetch_reach@gripper"].shape == (256, 128)
    pipe = plan(cfg, "cpu")  # the encoders the run used: frozen and in eval mode (they live outside the agent)
    assert all(not e.training and not any(p.requires_grad for p in e.parameters()) for e in pipe.bank.encoders)


def test_eval_render_writes_a_video_of_a_fetch_run(in_her_home):
    import imageio.v2 as imageio

    from wsa_robot.eval.command import eval_run

    _, run = in_her_home
    rows = eval_run(run, 1, render=True)
    assert rows[0]["length"] == 10 and set(rows[0]["weights"]) == {
        "ae_fetch_reach@external_camera_0", "ae_fetch_reach@gripper", "proprio", "desired_goal"}
    frames = imageio.mimread(run.videos / "episode_000.mp4")
    assert len(frames) == 10 and 20 < np.mean(frames[0]) < 250
    assert (run.videos / "weights_000.png").exists()


def test_a_her_run_resumes_with_its_replay_buffer(in_her_home):
    from stable_baselines3 import HerReplayBuffer
    from wsa_robot.run.replay_file import load_replay

    from wsa_robot.run.pipeline import plan
    from wsa_robot.run.train import train

    cfg, run = in_her_home
    train(run, plan(cfg.model_copy(update={"total_steps": 180, "eval_every": 0})), resume=True, progress=False)
    buffer = load_replay(run.replay_file)  # HER relabelled from the restored buffer during those 20 steps
    assert isinstance(buffer, HerReplayBuffer) and buffer.pos == 180 and run.read_state()["num_timesteps"] == 180


@pytest.mark.parametrize("argv, match", [
    (["train", "--task", "fetch/Reech"], "unknown task 'fetch/Reech'; choose one of: fetch/Reach"),
    (["train", "--task", "fetch/Push", "cameras=external_camera_0,wrist"], "unknown camera 'wrist' for task"),
    (["train", "--task", "kitchen/microwav"], "did you mean kitchen/microwave?"),
    (["train", "--task", "kitchen/kettle+kettle"], "names a subtask twice"),
    (["train", "--task", "fetch/Reach", "context=achieved_goal"], "context 'achieved_goal' is not a token"),
    (["train", "--task", "kitchen/kettle", "reward_shaping=true", "total_steps=1"], "only its sparse reward"),
])
def test_bad_names_are_one_line_and_exit_2(capsys, in_tmp, argv, match):
    one_line_error(capsys, argv, match)
