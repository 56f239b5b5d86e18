"""One offscreen render pass per camera per control step, RGB and depth from the same pass, upright.

robosuite refreshes camera observables on every physics substep and renders them upside down; this renderer
is called once per control step by the env, with the quality switches that cost the most on a software GL
(shadows, reflections, multisampling) off for training and on for videos. Without shadows and reflections,
geoms wholly out of view are left out of the render (envs/frustum.py): the same pixels, fewer vertices.
"""

from __future__ import annotations

import atexit

import mujoco
import numpy as np

from wsa_robot.envs.frustum import drop_outside_view
from wsa_robot.envs.gl import gl_context


class CameraRenderer:
    def __init__(self, model: mujoco.MjModel, width: int, height: int, *, shadows: bool = False,
                 reflections: bool = False, multisample: bool = False, sites: bool = True,
                 collision_geoms: bool = True) -> None:
        model.vis.quality.offsamples = 4 if multisample else 0  # read when the render context is made
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, height)
        self.model, self.width, self.height = model, width, height
        self.cull = not (shadows or reflections)  # out-of-view geoms can cast shadows or be mirrored into view
        self._gl = gl_context(width, height)
        self._gl.make_current()
        self._scene = mujoco.MjvScene(model, maxgeom=10000)
        self._scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = shadows
        self._scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = reflections
        self._option = mujoco.MjvOption()
        if not sites:  # sites are markers, not objects (gymnasium-robotics draws the goal as one)
            self._option.sitegroup[:] = 0
        # geom group 0 holds robosuite's collision meshes; robosuite's own cameras hide them
        self._option.geomgroup[0] = int(collision_geoms)
        self._camera = mujoco.MjvCamera()
        self._camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self._context = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self._context)
        self._rect = mujoco.MjrRect(0, 0, width, height)
        self._rgb = np.empty((height, width, 3), np.uint8)
        self._depth = np.empty((height, width), np.float32)
        extent = model.stat.extent
        self._near, self._far = model.vis.map.znear * extent, model.vis.map.zfar * extent
        atexit.register(self.close)  # free the GL context before the interpreter tears EGL down

    def _update(self, data: mujoco.MjData, camera: int | mujoco.MjvCamera) -> None:
        """The scene as `camera` sees it: a model camera's id, or an MjvCamera (free or tracking) of our own."""
        self._gl.make_current()
        if not isinstance(camera, mujoco.MjvCamera):
            self._camera.fixedcamid = int(camera)
            camera = self._camera
        mujoco.mjv_updateScene(self.model, data, self._option, None, camera, mujoco.mjtCatBit.mjCAT_ALL,
                               self._scene)
        if self.cull:
            drop_outside_view(self.model, data, self._scene, self.width / self.height)

    def render(self, data: mujoco.MjData, camera_id: int | mujoco.MjvCamera,
               depth: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """RGB uint8 [H, W, 3] and, if asked, depth in metres float32 [H, W, 1], both upright.
        `camera_id`: a camera of the model, or an MjvCamera placed by the caller (see `free_camera`)."""
        self._update(data, camera_id)
        mujoco.mjr_render(self._rect, self._scene, self._context)
        mujoco.mjr_readPixels(self._rgb, self._depth if depth else None, self._rect, self._context)
        rgb = np.flipud(self._rgb).copy()
        if not depth:
            return rgb, None
        z = np.flipud(self._depth)
        metres = self._near / (1.0 - z * (1.0 - self._near / self._far))
        return rgb, metres[..., None].astype(np.float32)

    def upload_texture(self, texid: int) -> None:
        """Send a texture whose bitmap changed in the model (a visual variation) to this context again."""
        self._gl.make_current()
        mujoco.mjr_uploadTexture(self.model, self._context, texid)

    def segment(self, data: mujoco.MjData, camera_id: int | mujoco.MjvCamera) -> np.ndarray:
        """The MuJoCo geom id under every pixel, int32 [H, W], upright; -1 where no geom is (the sky).

        A second pass with segmentation colours (each geom drawn flat in a colour encoding its id); only
        pretraining asks for it, so the training path never pays for it.
        """
        self._update(data, camera_id)
        flags = (mujoco.mjtRndFlag.mjRND_SEGMENT, mujoco.mjtRndFlag.mjRND_IDCOLOR)
        for f in flags:
            self._scene.flags[f] = 1
        try:
            mujoco.mjr_render(self._rect, self._scene, self._context)
            mujoco.mjr_readPixels(self._rgb, None, self._rect, self._context)
        finally:
            for f in flags:
                self._scene.flags[f] = 0
        rgb = np.flipud(self._rgb).astype(np.int32)
        segid = rgb[..., 0] + (rgb[..., 1] << 8) + (rgb[..., 2] << 16) - 1  # 0 encodes "no geom"
        lookup = np.full(self._scene.ngeom + 1, -1, np.int32)  # scene geom index -> model geom id
        for i in range(self._scene.ngeom):
            g = self._scene.geoms[i]
            if g.segid >= 0 and g.objtype == mujoco.mjtObj.mjOBJ_GEOM:
                lookup[g.segid] = g.objid
        segid[(segid < 0) | (segid >= self._scene.ngeom)] = self._scene.ngeom
        return lookup[segid]

    def close(self) -> None:
        if self._gl is not None:
            self._context.free()
            self._gl.free()
            self._gl = None


def close_with_renderers(env, *renderers: CameraRenderer | None) -> None:
    """Close a simulator env and the renderers made for it (camera frames, video): those that were made."""
    for renderer in renderers:
        if renderer is not None:
            renderer.close()
    env.close()


def free_camera(model: mujoco.MjModel, lookat: list[float] | None = None, distance: float = 1.5,
                azimuth: float = 90.0, elevation: float = -30.0, track_body: str | None = None) -> mujoco.MjvCamera:
    """A camera that is not in the model: fixed in the world looking at `lookat`, or following a body
    (`track_body`: it moves with the body, keeping its own orientation). Angles in degrees, as MuJoCo's viewer."""
    cam = mujoco.MjvCamera()
    cam.distance, cam.azimuth, cam.elevation = distance, azimuth, elevation
    if track_body is not None:
        cam.type = mujoco.mjtCamera.mjCAMERA_TRACKING
        cam.trackbodyid = model.body(track_body).id
    else:
        cam.type = mujoco.mjtCamera.mjCAMERA_FREE
    if lookat is not None:
        cam.lookat[:] = lookat
    return cam
