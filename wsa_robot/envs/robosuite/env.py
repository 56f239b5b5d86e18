"""robosuite tasks as a gymnasium env with a Dict observation: one upright image per camera plus proprio."""

from __future__ import annotations

import functools
import logging
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from wsa_robot.envs.robosuite.experts import EXPERTS, has_expert
from wsa_robot.envs.robosuite.gripper import set_gripper_mode, set_gripper_target
from wsa_robot.envs.renderer import CameraRenderer, close_with_renderers
from wsa_robot.envs.spaces import SEGMENT_CLASSES, camera_spaces  # noqa: F401  (SEGMENT_CLASSES: re-exported)
from wsa_robot.envs.robosuite.variations import ROBOT_VARIATIONS, ModelVariations, robosuite_scene
from wsa_robot.envs.variations import INTACT, filed_name, pick
from wsa_robot.core.errors import UserError
from wsa_robot.core.keys import PROPRIO
from wsa_robot.core.task_spec import TaskSpec

# Imports inside functions: robosuite, after the GL backend is chosen (see robosuite()).


@functools.cache
def robosuite():
    """The robosuite package, imported on first use, after the GL backend is chosen: its import sets MUJOCO_GL
    when unset (binding_utils) and warns through logging about optional extras this project does not use, so
    it cannot happen when this module is imported. The warnings are silenced for the import alone, and the
    caller's logging.disable level comes back after it."""
    from wsa_robot.envs.gl import choose_gl_backend

    choose_gl_backend()
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        import robosuite as package
        import robosuite.controllers  # noqa: F401  (load_*_controller_config, used below)
    finally:
        logging.disable(previous)
    robosuite_log = logging.getLogger("robosuite_logs")  # robosuite's own logger: errors only
    robosuite_log.setLevel(logging.ERROR)
    for handler in robosuite_log.handlers:
        handler.setLevel(logging.ERROR)
    return package


# config `controller` -> robosuite's part controller of the arm (the gripper keeps its own, one more dimension)
ARM_CONTROLLERS = {"osc_pose": "OSC_POSE", "osc_position": "OSC_POSITION"}


def controller_config(robot: str, controller: str = "osc_pose") -> dict:
    """The robot's composite controller config (robosuite 1.5) with its arm(s) driven by `controller`:
    osc_pose (6-d pose deltas + gripper: 7-d for Panda, robosuite's default) or osc_position (3-d position
    deltas + gripper: 4-d, the orientation held)."""
    controllers = robosuite().controllers
    config = controllers.load_composite_controller_config(robot=robot)
    if controller == "osc_pose":
        return config
    arm = controllers.load_part_controller_config(default_controller=ARM_CONTROLLERS[controller])
    for name, part in config["body_parts"].items():
        if part.get("type") == "OSC_POSE":
            config["body_parts"][name] = {**arm, "gripper": part["gripper"]} if "gripper" in part else dict(arm)
    return config


class RobosuiteEnv(gym.Env):
    """Renders each camera once per control step (not per physics substep) with its own fast renderer.
    With no camera (the state oracle alone) it makes no renderer and renders nothing.
    `state`: the observation also holds `state`, the task's object-state observable (privileged)."""

    metadata = {"render_modes": []}

    def __init__(self, task: TaskSpec, cameras: list[str], image_size: int = 84, depth: bool = False,
                 seed: int | None = None, horizon: int | None = None, reward_shaping: bool | None = None,
                 quality: dict[str, bool] | None = None, segmentation: bool = False,
                 video_size: int | None = None, variation: str | None = None, state: bool = False,
                 controller: str = "osc_pose", control_freq: int | None = None,
                 gripper: str = "incremental") -> None:
        self.task, self.cameras, self.depth, self.segmentation = task, list(cameras), depth, segmentation
        self.state = state
        self._env = robosuite().make(
            task.env_id, robots=task.robot, controller_configs=controller_config(task.robot, controller),
            has_renderer=False, has_offscreen_renderer=False, use_camera_obs=False, use_object_obs=state,
            reward_shaping=task.reward_shaping if reward_shaping is None else reward_shaping,
            control_freq=control_freq or task.control_freq, horizon=horizon or task.horizon, hard_reset=False,
            seed=seed,
        )
        set_gripper_mode(self._env, gripper)
        model = self._env.sim.model._model
        names = [model.camera(i).name for i in range(model.ncam)]
        unknown = [c for c in self.cameras if c not in names]
        if unknown:
            raise UserError(f"unknown camera {unknown[0]!r} for task {task.name}; available: {', '.join(names)}")
        self._camera_ids = [names.index(c) for c in self.cameras]
        # video of a run without cameras (the state oracle) shows the task's default cameras
        self._video_cameras = self.cameras or list(task.cameras)
        self._video_ids = [names.index(c) for c in self._video_cameras]
        self._renderer = CameraRenderer(model, image_size, image_size, **(quality or {})) if self.cameras else None
        # Videos get their own full-quality renderer, so what the agent sees never changes with --render.
        self._video = CameraRenderer(model, video_size, video_size, shadows=True, reflections=True,
                                     multisample=True, collision_geoms=False) if video_size else None
        self._geom_class = self._geom_classes(model)
        # hard_reset=False: robosuite's reset keeps this model, so a variation set once lasts across episodes
        self._variations = ModelVariations(robosuite_scene(model, self._geom_class))
        self.variation = INTACT
        self.set_variation(variation)
        raw = self._env.reset()
        self._raw, self._expert = raw, None
        # the state a fresh env starts its first episode from (robosuite.make's reset and this one have drawn)
        self._made_rng = self._env.rng.bit_generator.state
        proprio = self._proprio(raw)
        obs_spaces = camera_spaces(self.cameras, image_size, depth, segmentation)
        obs_spaces[PROPRIO] = spaces.Box(-np.inf, np.inf, proprio.shape, np.float32)
        if state:
            obs_spaces["state"] = spaces.Box(-np.inf, np.inf, self._object_state(raw).shape, np.float32)
        self.observation_space = spaces.Dict(obs_spaces)
        low, high = self._env.action_spec
        self.action_space = spaces.Box(low.astype(np.float32), high.astype(np.float32))

    def _geom_classes(self, model) -> np.ndarray:
        """Class index (SEGMENT_CLASSES) of every geom, with one extra slot at the end for "no geom"."""
        roots = {model.body(obj.root_body).id for obj in self._env.model.mujoco_objects}

        def under_object(body: int) -> bool:
            while body > 0:
                if body in roots:
                    return True
                body = model.body_parentid[body]
            return False

        classes = np.zeros(model.ngeom + 1, np.uint8)  # the last slot (-1) stays background
        for g in range(model.ngeom):
            body = model.geom_bodyid[g]
            name = model.body(body).name
            classes[g] = (4 if under_object(body) else 3 if name.startswith("gripper0_")
                          else 2 if name.startswith(("robot0_", "fixed_mount0_", "mount0_")) else 1)
        return classes

    def _proprio(self, raw: dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([np.ravel(raw[k]) for k in self.task.proprio_keys]).astype(np.float32)

    @staticmethod
    def _object_state(raw: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(raw["object-state"], np.float32)

    def _observe(self, raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        obs: dict[str, np.ndarray] = {}
        data = self._env.sim.data._data
        for cam, cam_id in zip(self.cameras, self._camera_ids):
            rgb, depth = self._renderer.render(data, cam_id, depth=self.depth)
            obs[cam] = rgb
            if self.depth:
                obs[f"{cam}_depth"] = depth
            if self.segmentation:
                obs[f"{cam}_seg"] = self._geom_class[self._renderer.segment(data, cam_id)][..., None]
        obs[PROPRIO] = self._proprio(raw)
        if self.state:
            obs["state"] = self._object_state(raw)
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:  # every robosuite sampler shares env.rng: reseed it in place
            self._env.rng.bit_generator.state = np.random.default_rng(seed).bit_generator.state
        raw = self._env.reset()
        self._succeeded = False
        self._raw = raw
        if self._expert is not None:
            self._expert.reset()
        return self._observe(raw), {"is_success": False, "success_now": False}

    def step(self, action: np.ndarray):
        raw, reward, done, _ = self._env.step(np.asarray(action, dtype=np.float64))
        self._raw = raw
        now = bool(self._env._check_success())
        self._succeeded = self._succeeded or now
        truncated = bool(done)  # robosuite ends episodes only at the horizon
        # is_success is sticky (reached at any step so far), so SB3's episode-end success rate and eval agree
        return self._observe(raw), float(reward), False, truncated, {"is_success": self._succeeded,
                                                                     "success_now": now}

    def start_from(self, state: np.ndarray, gripper_target: float = 0.0) -> dict[str, np.ndarray]:
        """Put the episode just reset into a flat MuJoCo state (a demonstration's, demos/starts.py), the gripper's
        target where the demo's actions had moved it, and return the observation of that state."""
        sim = self._env.sim
        size = sim.get_state().flatten().shape[0]
        if np.shape(state) != (size,):
            raise UserError(f"a demo state has {np.size(state)} values, {self.task.name}'s simulator {size}: the "
                            "demos were recorded with another robot or robosuite version; record them again")
        sim.set_state_from_flattened(np.asarray(state, np.float64))
        sim.forward()
        for robot in self._env.robots:  # the arm's goal at the restored pose, not at the reset's
            robot.composite_controller.update_state()
            robot.composite_controller.reset()
        set_gripper_target(self._env, gripper_target)
        raw = self._env._get_observations(force_update=True)
        self._raw, self._succeeded = raw, False
        return self._observe(raw)

    def expert_action(self) -> np.ndarray:
        """What the task's scripted PRIVILEGED controller (envs/robosuite/experts.py) does now; it reads the
        simulator."""
        if not has_expert(self.task.env_id):
            raise UserError(f"task {self.task.name} has no scripted controller; drop sac.expert_steps")
        scripted = EXPERTS[self.task.env_id]
        if self._expert is None:
            self._expert = scripted.make()
        inputs = scripted.inputs(self._env, self._raw)
        return self._expert.act(*inputs, self.action_space.shape[0])

    def set_variation(self, spec: str | None) -> None:
        """Show the scene under a named visual variation (`NAME` or `NAME:SEED`, see envs/variations.py);
        None or "intact": the unchanged scene. Only visual model fields change, never physics."""
        found = pick(spec, lambda: ROBOT_VARIATIONS)  # this backend's own (envs/robosuite/backend.py)
        for tex in self._variations.set(found):
            for renderer in (self._renderer, self._video):
                if renderer is not None:
                    renderer.upload_texture(tex)
        mujoco.mj_camlight(self._env.sim.model._model, self._env.sim.data._data)  # moved cameras, now
        self.variation = filed_name(found)

    def camera_frames(self) -> dict[str, np.ndarray]:
        """Every camera's frame of the current state as the scene looks now: after `set_variation`, the same
        state under another variation (pretraining's twin views, pretrain/collect.py)."""
        data = self._env.sim.data._data
        return {cam: self._renderer.render(data, cam_id)[0] for cam, cam_id in zip(self.cameras, self._camera_ids)}

    def rewind(self) -> None:
        """Draw again as if just made: the next reset (without a seed) places the objects as the first reset of a
        fresh env with the same seed does. With `set_variation`, one env evaluates many conditions over the
        same episodes as envs built for each (eval/conditions.py)."""
        self._env.rng.bit_generator.state = self._made_rng

    def video_frames(self) -> dict[str, np.ndarray]:
        """Every camera at video size and full quality (needs `video_size`); the agent never sees these."""
        if self._video is None:
            raise RuntimeError("make the env with video_size=... to render video frames")
        data = self._env.sim.data._data
        return {cam: self._video.render(data, cam_id)[0]
                for cam, cam_id in zip(self._video_cameras, self._video_ids)}

    def close(self) -> None:
        close_with_renderers(self._env, self._renderer, self._video)
