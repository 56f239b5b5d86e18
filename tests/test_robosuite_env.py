import numpy as np
import pytest

from wsa_robot.envs import make_env
from wsa_robot.envs.tasks import load_task

CAMERAS = ["agentview", "robot0_eye_in_hand"]


@pytest.fixture(scope="module")
def env():
    task = load_task("Lift")
    e = make_env(task, CAMERAS, 84, depth=True, seed=0,
                 quality={"shadows": True, "reflections": True, "multisample": False})
    yield e
    e.close()


def test_observation_matches_its_space(env):
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert obs["agentview"].shape == (84, 84, 3) and obs["agentview"].dtype == np.uint8
    assert obs["proprio"].shape == (9,) and info["is_success"] is False
    for cam in CAMERAS:  # frames are not blank (a black frame sequence has been seen with software GL)
        assert 20 < obs[cam].mean() < 250


def test_images_are_upright_against_robosuites_own_render(env):
    obs, _ = env.reset(seed=1)
    from robosuite.utils.binding_utils import MjRenderContextOffscreen

    sim = env._env.sim
    MjRenderContextOffscreen(sim, device_id=-1)  # robosuite's own renderer, as use_camera_obs would make
    theirs = sim.render(width=84, height=84, camera_name="agentview")  # robosuite: OpenGL order, upside down
    ours = obs["agentview"].astype(float)
    upright_err = np.abs(ours - np.flipud(theirs)).mean()
    flipped_err = np.abs(ours - theirs).mean()
    assert upright_err < 3.0 < flipped_err
    # and in absolute terms: the table (bright, bottom of agentview) lies below the robot and background
    assert ours[-20:].mean() > ours[:20].mean()


def test_depth_is_in_metres(env):
    obs, _ = env.reset(seed=0)
    depth = obs["agentview_depth"]
    assert depth.shape == (84, 84, 1) and np.isfinite(depth).all()
    assert 0.3 < float(np.median(depth)) < 5.0  # the table is about a metre or two from the agentview camera
    hand = float(np.median(obs["robot0_eye_in_hand_depth"]))
    assert hand < float(np.median(depth))  # the wrist camera is closer to what it sees


def test_same_seed_same_episode(env):
    def rollout(seed):
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        frames, rewards = [obs["agentview"]], []
        for _ in range(5):
            obs, r, *_ = env.step(rng.uniform(-1, 1, 7))
            frames.append(obs["agentview"])
            rewards.append(r)
        return np.stack(frames), rewards

    a, b = rollout(3), rollout(3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(rollout(4)[0][0], a[0][0])  # another seed places the cube elsewhere


def test_steps_report_success_and_truncate_at_horizon():
    e = make_env(load_task("Lift"), ["agentview"], 32, seed=0, horizon=20)
    try:
        e.reset(seed=0)
        sim = e._env.sim
        qpos = sim.data.get_joint_qpos("cube_joint0").copy()
        qpos[2] += 0.3  # lift the cube by hand: it is a success while it falls, and stays one in is_success
        sim.data.set_joint_qpos("cube_joint0", qpos)
        sim.forward()
        steps = [e.step(np.zeros(7)) for _ in range(20)]
        assert [s[3] for s in steps] == [False] * 19 + [True]
        assert steps[0][4]["success_now"] and all(s[4]["is_success"] for s in steps)
        assert not steps[-1][4]["success_now"]  # it has landed by the horizon
    finally:
        e.close()


def test_segmentation_labels_the_cube_gripper_and_table():
    from wsa_robot.envs.spaces import SEGMENT_CLASSES

    from wsa_robot.envs.robosuite.env import RobosuiteEnv

    e = RobosuiteEnv(load_task("Lift"), ["agentview", "robot0_eye_in_hand"], 84, seed=0, segmentation=True)
    try:
        obs, _ = e.reset(seed=0)
        cls = {name: i for i, name in enumerate(SEGMENT_CLASSES)}
        for cam in e.cameras:
            seg, rgb = obs[f"{cam}_seg"][..., 0], obs[cam].astype(int)
            assert obs[f"{cam}_seg"].shape == (84, 84, 1) and e.observation_space[f"{cam}_seg"].contains(obs[f"{cam}_seg"])
            cube = seg == cls["object"]
            assert cube.sum() > 20 and (seg == cls["gripper"]).sum() > 100 and (seg == cls["arena"]).sum() > 3000
            red = rgb[..., 0] - rgb[..., 1]
            assert red[cube].mean() > red[seg == cls["arena"]].mean() + 30  # the cube is the red thing
    finally:
        e.close()


def test_video_frames_are_rendered_apart_from_what_the_agent_sees():
    plain = make_env(load_task("Lift"), ["agentview"], 84, seed=0)
    filmed = make_env(load_task("Lift"), ["agentview"], 84, seed=0, video_size=168)
    try:
        a, _ = plain.reset(seed=2)
        b, _ = filmed.reset(seed=2)
        assert np.array_equal(a["agentview"], b["agentview"])  # --render never changes the agent's input
        video = filmed.video_frames()["agentview"]
        assert video.shape == (168, 168, 3) and 20 < video.mean() < 250
        small = video.reshape(84, 2, 84, 2, 3).mean(axis=(1, 3))
        assert np.abs(small - a["agentview"]).mean() < 25  # the same view, in more pixels and with shadows
    finally:
        plain.close()
        filmed.close()


def test_full_quality_without_collision_geoms_matches_robosuites_camera_observation():
    """Against robosuite's real `use_camera_obs=True` images in the same state: collision meshes hidden and
    quality on, ours equal theirs up to rasterisation noise; the training default (collision meshes drawn,
    as the shipped encoders saw them) differs visibly."""
    import robosuite
    from robosuite.controllers import load_composite_controller_config

    task = load_task("Lift")
    stock = robosuite.make("Lift", robots="Panda", use_camera_obs=True, camera_names=CAMERAS, camera_heights=84,
                           camera_widths=84, has_renderer=False, has_offscreen_renderer=True, use_object_obs=False,
                           controller_configs=load_composite_controller_config(robot="Panda"), hard_reset=False)
    errors = {}
    try:
        stock.reset()
        for collision in (False, True):
            ours = make_env(task, CAMERAS, 84, seed=0, quality={"shadows": True, "reflections": True,
                                                                "multisample": True, "collision_geoms": collision})
            try:
                obs, _ = ours.reset(seed=0)
                stock.sim.set_state_from_flattened(ours._env.sim.get_state().flatten())
                stock.sim.forward()
                theirs = stock._get_observations(force_update=True)
                errors[collision] = max(np.abs(obs[c].astype(float) - np.flipud(theirs[f"{c}_image"])).mean()
                                        for c in CAMERAS)
            finally:
                ours.close()
    finally:
        stock.close()
    assert errors[False] < 0.5 and errors[True] > 3.0, errors
