"""Leave out of a render the model geoms that lie wholly outside the camera's view.

MuJoCo sends every geom of the scene to OpenGL, and Mesa's software renderer transforms and lights every
vertex before it clips: on robosuite's Lift (182k mesh faces) the eye-in-hand camera, looking down past the
gripper, still paid for the whole arm. A geom whose bounding sphere (`geom_rbound`) is outside one of the six
planes of the view frustum adds no pixel, so dropping it leaves the image and the depth bit-identical (a test
checks both) and saved about a quarter of the render time there. Only without shadows and reflections: a geom
out of view can still cast a shadow or be mirrored into it.
"""

from __future__ import annotations

import mujoco
import numpy as np


def outside_view(model: mujoco.MjModel, data: mujoco.MjData, camera: mujoco.MjvGLCamera,
                 aspect: float) -> np.ndarray | None:
    """[ngeom] bool: model geoms whose bounding sphere misses the view of `camera` (the scene's camera after
    mjv_updateScene) on a viewport of width/height `aspect`. None when the frustum is not the symmetric
    perspective one that mjr_render builds for model and free cameras (then nothing may be dropped)."""
    if camera.orthographic or camera.frustum_width != 0 or camera.frustum_center != 0 or camera.frustum_near <= 0:
        return None
    forward = np.asarray(camera.forward, np.float64)
    up = np.asarray(camera.up, np.float64)
    rel = data.geom_xpos - np.asarray(camera.pos, np.float64)
    z, y, x = rel @ forward, rel @ up, rel @ np.cross(forward, up)
    r = model.geom_rbound
    tan_y = camera.frustum_top / camera.frustum_near   # mjr_render: bottom = -top, half-width = aspect * top
    tan_x = aspect * tan_y
    out = (z < camera.frustum_near - r) | (z > camera.frustum_far + r)
    out |= (np.abs(x) - z * tan_x) / np.sqrt(1 + tan_x ** 2) > r
    out |= (np.abs(y) - z * tan_y) / np.sqrt(1 + tan_y ** 2) > r
    return out & (r > 0)  # rbound 0: a plane, unbounded


def drop_outside_view(model: mujoco.MjModel, data: mujoco.MjData, scene: mujoco.MjvScene, aspect: float) -> None:
    """Turn the scene's geoms that `outside_view` finds into mjGEOM_NONE, which mjr_render skips.
    mjv_updateScene rebuilds the scene, so nothing carries over to the next render."""
    out = outside_view(model, data, scene.camera[0], aspect)
    if out is None or not out.any():
        return
    for i in range(scene.ngeom):
        g = scene.geoms[i]
        if g.objtype == mujoco.mjtObj.mjOBJ_GEOM and out[g.objid]:
            g.type = mujoco.mjtGeom.mjGEOM_NONE
