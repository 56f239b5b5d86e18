"""Geoms outside the view are left out of the render, and the pixels and depth stay exactly the same."""

import mujoco
import numpy as np
import pytest

from wsa_robot.envs.frustum import outside_view
from wsa_robot.envs.renderer import CameraRenderer

# a camera at the origin looking down -z (MuJoCo's camera convention), fovy 60, and spheres around it
SCENE = """
<mujoco>
  <worldbody>
    <light pos="0 0 2" dir="0 0 -1"/>
    <camera name="eye" pos="0 0 0" fovy="60"/>
    <geom name="ahead" type="sphere" size="0.3" pos="0 0 -3" rgba="1 0 0 1"/>
    <geom name="behind" type="sphere" size="0.3" pos="0 0 3"/>
    <geom name="far_left" type="sphere" size="0.3" pos="-10 0 -3"/>
    <geom name="edge" type="sphere" size="0.5" pos="2.0 0 -3" rgba="0 1 0 1"/>
    <geom name="above" type="box" size="0.2 0.2 0.2" pos="0 9 -3"/>
    <geom name="floor" type="plane" size="5 5 0.1" pos="0 -2 0" zaxis="0 1 0"/>
  </worldbody>
</mujoco>
"""


@pytest.fixture(scope="module")
def scene():
    model = mujoco.MjModel.from_xml_string(SCENE)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    return model, data


def test_outside_view_finds_the_geoms_out_of_the_frustum(scene):
    model, data = scene
    renderer = CameraRenderer(model, 64, 64)
    try:
        renderer._update(data, model.camera("eye").id)  # culls; the scene camera is what the test reads
        out = outside_view(model, data, renderer._scene.camera[0], 1.0)
    finally:
        renderer.close()
    names = {model.geom(i).name for i in np.flatnonzero(out)}
    # "edge" pokes into the view (tan 30 deg * 3 = 1.73 < 2.0 - 0.5) and the plane has no bound: both kept
    assert names == {"behind", "far_left", "above"}


def test_frustum_needs_the_symmetric_perspective_view(scene):
    model, data = scene
    camera = mujoco.MjvGLCamera()
    camera.forward, camera.up = [0, 0, -1], [0, 1, 0]
    camera.frustum_near, camera.frustum_far, camera.frustum_top, camera.frustum_bottom = 0.01, 50, 0.006, -0.006
    assert outside_view(model, data, camera, 1.0) is not None
    camera.orthographic = 1
    assert outside_view(model, data, camera, 1.0) is None


def render_both_ways(renderer, data, camera):
    renderer.cull = False
    full = renderer.render(data, camera, depth=True)
    renderer.cull = True
    culled = renderer.render(data, camera, depth=True)
    return full, culled


def renderer_data_views(env):
    """The agent's renderer, the MjData it draws and its camera views, for either robot backend."""
    inner = env.unwrapped
    if hasattr(inner, "_views"):  # gymnasium-robotics: MjvCameras of our own (free or tracking)
        return inner._renderer, inner._data, list(inner._views)
    return inner._renderer, inner._env.sim.data._data, list(inner._camera_ids)  # robosuite: model cameras


@pytest.mark.parametrize("task, cameras", [("Lift", ["agentview", "robot0_eye_in_hand"]),
                                           ("fetch/PickAndPlace", ["external_camera_0", "gripper"])])
def test_culling_changes_no_pixel_and_leaves_out_geoms(task, cameras):
    from wsa_robot.envs import make_env
    from wsa_robot.envs.tasks import load_task

    env = make_env(load_task(task), cameras, 84, depth=True, seed=0)
    try:
        env.reset(seed=0)
        renderer, data, views = renderer_data_views(env)
        rng = np.random.default_rng(0)
        left_out = 0
        for _ in range(4):
            env.step(rng.uniform(-1, 1, env.action_space.shape))
            for view in views:
                (rgb, depth), (rgb_c, depth_c) = render_both_ways(renderer, data, view)
                np.testing.assert_array_equal(rgb, rgb_c)
                np.testing.assert_array_equal(depth, depth_c)
                left_out += int(outside_view(renderer.model, data, renderer._scene.camera[0], 1.0).sum())
        assert left_out > 0  # the test would pass vacuously if nothing were ever culled
    finally:
        env.close()


def test_no_culling_with_shadows_or_reflections(scene):
    model, _ = scene
    for quality in ({"shadows": True}, {"reflections": True}):
        renderer = CameraRenderer(model, 32, 32, **quality)
        assert renderer.cull is False
        renderer.close()
