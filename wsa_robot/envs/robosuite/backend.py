"""robosuite tasks (tasks/*.yaml): cameras and depth from one render pass, the robot variations, two arm
controllers. The env itself is env.py beside it, imported when one is made (it loads robosuite)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wsa_robot.envs.backends.base import Backend, EnvOptions
from wsa_robot.envs.robosuite.experts import has_expert
from wsa_robot.envs.robosuite.gripper import GRIPPER_MODES
from wsa_robot.core.task_spec import TaskSpec

# Imports inside functions: the env module (robosuite, mujoco) and the variations (mujoco) load when used.

if TYPE_CHECKING:
    import gymnasium as gym

    from wsa_robot.envs.variations import Variation


class RobosuiteBackend(Backend):
    name = "robosuite"
    depth = True
    frame_labels = ("depth", "segmentation", "state")
    pretrain_episode = 100
    controllers = ("osc_pose", "osc_position")  # envs/robosuite/env.py ARM_CONTROLLERS
    control_rates = True
    gripper_modes = GRIPPER_MODES
    variations_in_place = True

    def make_env(self, task: TaskSpec, cameras: list[str], image_size: int, options: EnvOptions) -> gym.Env:
        from wsa_robot.envs.robosuite.env import RobosuiteEnv

        o = options
        return RobosuiteEnv(task, cameras, image_size, depth=o.depth, seed=o.seed, horizon=o.horizon,
                            reward_shaping=o.reward_shaping, quality=o.quality, segmentation=o.segmentation,
                            video_size=o.video_size, variation=o.variation, state=o.state, controller=o.controller,
                            control_freq=o.control_freq, gripper=o.gripper)

    def has_expert(self, task: TaskSpec) -> bool:
        return has_expert(task.env_id)

    def variations(self, task: TaskSpec) -> dict[str, Variation]:
        from wsa_robot.envs.robosuite.variations import ROBOT_VARIATIONS

        return dict(ROBOT_VARIATIONS)
