"""gymnasium-robotics MuJoCo tasks (Fetch v4, FrankaKitchen-v1) as a gymnasium env with a Dict observation.

The same contract as the robosuite backend: one upright uint8 image per named camera (and its depth in metres
from the same render pass, when asked), "proprio" (the robot's own state), and for goal tasks (Fetch) the raw
`achieved_goal` / `desired_goal` vectors that HER relabels. Cameras are rendered once per step by our own
CameraRenderer on the env's `unwrapped.model` / `unwrapped.data`, never through the env's render(): a camera is
one of the model's (Fetch: external_camera_0, gripper_camera_rgb, head_camera_rgb, lidar) or a free camera the
task YAML places (`free_cameras`; FrankaKitchen's two model cameras look at the counter from a hand's width).

What the agent does not get: Fetch's `observation` vector also holds the object's true position, rotation and
velocities; "proprio" keeps only the gripper's part (`proprio_keys`), so the object is seen through the cameras
only (except in the privileged state oracle, encoders=state, whose `state` token is that object part). The goal marker (a MuJoCo site) is hidden from the agent's cameras, since HER relabels the goal the image
would show; videos show it.
"""

from __future__ import annotations

import contextlib
import functools
import io
from typing import Any, Callable

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from wsa_robot.envs.renderer import CameraRenderer, close_with_renderers, free_camera
from wsa_robot.envs.spaces import camera_spaces
from wsa_robot.core.errors import UserError
from wsa_robot.core.keys import PROPRIO
from wsa_robot.core.task_spec import TaskSpec

# Imports inside functions: gymnasium_robotics registers its envs on import, only when an env is made.


# Fetch's `observation`: these pieces in this order; without an object (Reach) the object pieces are empty
FETCH_PARTS = {"grip_pos": 3, "object_pos": 3, "object_rel_pos": 3, "gripper_state": 2, "object_rot": 3,
               "object_velp": 3, "object_velr": 3, "grip_velp": 3, "gripper_vel": 2}
FETCH_OBJECT_PARTS = ("object_pos", "object_rel_pos", "object_rot", "object_velp", "object_velr")
KITCHEN_OBJECT_PARTS = ("object_qpos", "object_qvel")
# FrankaKitchen's `observation`: 9 robot joint positions, 9 velocities, 21 object joint positions, 20 velocities
KITCHEN_PARTS = {"robot_qpos": slice(0, 9), "robot_qvel": slice(9, 18), "object_qpos": slice(18, 39),
                 "object_qvel": slice(39, 59)}
# bodies whose geoms segmentation labels "object" (and "gripper"), per model
OBJECT_BODIES = ("object0", "kettle", "microwave", "slidecabinet", "hingecabinet", "lightswitchroot",
                 "knob 1", "knob 2", "knob 3", "knob 4")
GRIPPER_BODIES = ("robot0:gripper_link", "robot0:r_gripper_finger_link", "robot0:l_gripper_finger_link",
                  "panda0_link7", "panda0_leftfinger", "panda0_rightfinger")
ROBOT_PREFIXES = ("robot0:", "panda0_")
GOAL_KEYS = ("achieved_goal", "desired_goal")


def _register() -> None:
    # its import prints a notice about the Adroit envs' rewards to stderr; we use none of them
    with contextlib.redirect_stderr(io.StringIO()):
        import gymnasium_robotics

    gym.register_envs(gymnasium_robotics)


def fetch_reward(achieved_goal: np.ndarray, desired_goal: np.ndarray, info: Any = None, *,
                 distance_threshold: float, reward_type: str) -> np.ndarray:
    """Fetch's compute_reward, as a plain function of the goals (batched over the leading axes)."""
    d = np.linalg.norm(np.asarray(achieved_goal) - np.asarray(desired_goal), axis=-1)
    if reward_type == "sparse":
        return -(d > distance_threshold).astype(np.float32)
    return -d.astype(np.float32)


class GymRoboticsEnv(gym.Env):
    """A gymnasium-robotics env seen through named cameras; success (`is_success`) is sticky per episode."""

    metadata = {"render_modes": []}

    def __init__(self, task: TaskSpec, cameras: list[str], image_size: int = 84, depth: bool = False,
                 seed: int | None = None, horizon: int | None = None, reward_shaping: bool | None = None,
                 quality: dict[str, bool] | None = None, segmentation: bool = False,
                 video_size: int | None = None, state: bool = False) -> None:
        _register()
        self.task, self.cameras, self.depth, self.segmentation = task, list(cameras), depth, segmentation
        self.kitchen = task.env_id.startswith("FrankaKitchen")
        kwargs = dict(task.env_kwargs)
        shaped = task.reward_shaping if reward_shaping is None else reward_shaping  # checked by the backend
        if not self.kitchen:
            kwargs["reward_type"] = "dense" if shaped else "sparse"
        self._env = gym.make(task.env_id, max_episode_steps=horizon or task.horizon, disable_env_checker=True,
                             **kwargs)
        if seed is not None:
            self._env.action_space.seed(seed)
        u = self._env.unwrapped
        model, self._data = u.model, u.data
        self._views = self._camera_views(model, self.cameras)
        # video of a run without cameras (the state oracle) shows the task's default cameras
        self._video_cameras = self.cameras or list(task.cameras)
        self._video_views = self._camera_views(model, self._video_cameras)
        # render.collision_geoms is about robosuite's collision meshes (geom group 0); Fetch draws every geom,
        # visual or not, in group 0 (FrankaKitchen keeps its collision geoms in group 3, hidden): ignored here
        quality = {k: v for k, v in (quality or {}).items() if k != "collision_geoms"}
        self._renderer = CameraRenderer(model, image_size, image_size, sites=False, **quality) \
            if self.cameras else None  # the state oracle alone renders nothing
        # Videos get their own full-quality renderer with the goal marker shown; the agent's view never changes.
        self._video = CameraRenderer(model, video_size, video_size, shadows=True, reflections=True,
                                     multisample=True) if video_size else None
        self._geom_class = self._geom_classes(model) if segmentation else None
        self._proprio_index = self._layout(self.task.proprio_keys, "proprio_keys")
        # privileged (encoders=state): the object's part of the observation vector, which proprio leaves out
        self._state_index = self._layout(KITCHEN_OBJECT_PARTS if self.kitchen else FETCH_OBJECT_PARTS,
                                         "state") if state else None
        raw, _ = self._env.reset(seed=seed)  # seeds the env's generator; later resets go on from it
        obs_spaces = camera_spaces(self.cameras, image_size, depth, segmentation)
        obs_spaces[PROPRIO] = spaces.Box(-np.inf, np.inf, (len(self._proprio_index),), np.float32)
        if state:
            obs_spaces["state"] = spaces.Box(-np.inf, np.inf, (len(self._state_index),), np.float32)
        if task.goal:
            for key in GOAL_KEYS:
                obs_spaces[key] = spaces.Box(-np.inf, np.inf, np.shape(raw[key]), np.float32)
        self.observation_space = spaces.Dict(obs_spaces)
        space = self._env.action_space
        self.action_space = spaces.Box(space.low.astype(np.float32), space.high.astype(np.float32))

    # -- set-up ------------------------------------------------------------------------------------------

    def _camera_views(self, model: mujoco.MjModel, cameras: list[str]) -> list[int | mujoco.MjvCamera]:
        names = [model.camera(i).name for i in range(model.ncam)]
        available = names + list(self.task.free_cameras)
        views: list[int | mujoco.MjvCamera] = []
        for cam in cameras:
            if cam in self.task.free_cameras:
                spec = self.task.free_cameras[cam]
                try:
                    views.append(free_camera(model, spec.lookat, spec.distance, spec.azimuth, spec.elevation,
                                             spec.track_body))
                except KeyError:
                    raise UserError(f"task {self.task.name}: camera {cam} follows body {spec.track_body!r}, which "
                                    f"{self.task.env_id} does not have") from None
            elif cam in names:
                views.append(names.index(cam))
            else:
                raise UserError(f"unknown camera {cam!r} for task {self.task.name}; available: {', '.join(available)}")
        return views

    def _layout(self, keys: list[str] | tuple[str, ...], what: str) -> np.ndarray:
        """Indices into the env's `observation` vector of the named parts (`proprio_keys`, or the object's)."""
        if self.kitchen:
            parts = {k: np.arange(s.start, s.stop) for k, s in KITCHEN_PARTS.items()}
        else:
            has_object = self._env.unwrapped.has_object
            parts, start = {}, 0
            for name, size in FETCH_PARTS.items():
                size = size if has_object or name not in FETCH_OBJECT_PARTS else 0
                parts[name], start = np.arange(start, start + size), start + size
        unknown = [k for k in keys if k not in parts]
        if unknown or not keys:
            raise UserError(f"task {self.task.name}: proprio_keys must name some of {', '.join(parts)} "
                            f"(got {unknown[0] if unknown else 'none'})")
        index = np.concatenate([parts[k] for k in keys])
        if not len(index):
            raise UserError(f"task {self.task.name} has no object whose {what} the env could give; "
                            "use camera encoders (see `wsa-robot encoders`)")
        return index

    def _geom_classes(self, model: mujoco.MjModel) -> np.ndarray:
        """Class index (SEGMENT_CLASSES) of every geom, with one extra slot at the end for "no geom"."""
        def classify(body: int) -> int:
            first = model.body(body).name
            while body > 0:
                name = model.body(body).name
                if name in OBJECT_BODIES:
                    return 4
                if name in GRIPPER_BODIES:
                    return 3
                body = model.body_parentid[body]
            return 2 if first.startswith(ROBOT_PREFIXES) else 1

        classes = np.zeros(model.ngeom + 1, np.uint8)  # the last slot (-1) stays background
        for g in range(model.ngeom):
            classes[g] = classify(int(model.geom_bodyid[g]))
        return classes

    # -- observations ------------------------------------------------------------------------------------

    def _observe(self, raw: dict[str, Any]) -> dict[str, np.ndarray]:
        obs: dict[str, np.ndarray] = {}
        for cam, view in zip(self.cameras, self._views):
            rgb, depth = self._renderer.render(self._data, view, depth=self.depth)
            obs[cam] = rgb
            if self.depth:
                obs[f"{cam}_depth"] = depth
            if self.segmentation:
                obs[f"{cam}_seg"] = self._geom_class[self._renderer.segment(self._data, view)][..., None]
        obs[PROPRIO] = np.asarray(raw["observation"], np.float32)[self._proprio_index]
        if self._state_index is not None:
            obs["state"] = np.asarray(raw["observation"], np.float32)[self._state_index]
        if self.task.goal:
            for key in GOAL_KEYS:
                obs[key] = np.asarray(raw[key], np.float32)
        return obs

    def _success(self, info: dict[str, Any]) -> bool:
        if self.kitchen:  # every subtask of the episode done (the env also terminates then)
            return len(info.get("episode_task_completions", ())) == len(self._env.unwrapped.goal)
        return bool(info.get("is_success", 0.0))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        raw, _ = self._env.reset(seed=seed, options=options)
        self._succeeded = False
        return self._observe(raw), {"is_success": False, "success_now": False}

    def step(self, action: np.ndarray):
        raw, reward, terminated, truncated, info = self._env.step(np.asarray(action, dtype=np.float64))
        now = self._success(info)
        self._succeeded = self._succeeded or now
        # is_success is sticky (reached at any step so far), so SB3's episode-end success rate and eval agree
        return self._observe(raw), float(reward), bool(terminated), bool(truncated), {
            "is_success": self._succeeded, "success_now": now}

    # -- goals (HER) -------------------------------------------------------------------------------------

    def compute_reward(self, achieved_goal: np.ndarray, desired_goal: np.ndarray, info: Any) -> np.ndarray:
        """The env's own reward for (possibly relabelled) goals, batched."""
        return self.goal_reward()(achieved_goal, desired_goal, info)

    def goal_reward(self) -> Callable[..., np.ndarray]:
        """compute_reward as a picklable function, so the learner's process can relabel goals without a
        round trip to the env's process (see envs/goal.py)."""
        if not self.task.goal:
            raise UserError(f"task {self.task.name} is not goal-conditioned")
        u = self._env.unwrapped
        return functools.partial(fetch_reward, distance_threshold=float(u.distance_threshold),
                                 reward_type=str(u.reward_type))

    # -- video -------------------------------------------------------------------------------------------

    def video_frames(self) -> dict[str, np.ndarray]:
        """Every camera at video size and full quality, goal marker shown (needs `video_size`)."""
        if self._video is None:
            raise RuntimeError("make the env with video_size=... to render video frames")
        u = self._env.unwrapped
        if hasattr(u, "_render_callback"):  # Fetch moves its goal marker only when asked to render
            u._render_callback()
        return {cam: self._video.render(self._data, view)[0]
                for cam, view in zip(self._video_cameras, self._video_views)}

    def close(self) -> None:
        close_with_renderers(self._env, self._renderer, self._video)
