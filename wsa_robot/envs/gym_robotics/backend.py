"""gymnasium-robotics tasks: Fetch (goal tasks, HER) and FrankaKitchen, whose subsets it generates
(`kitchen/<subtask>[+<subtask>...]`, `kitchen/all`). The env is env.py beside it, imported when one is made
(it loads mujoco and gymnasium-robotics)."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

import yaml

from wsa_robot.envs.backends.base import Backend, EnvOptions, RunOptions
from wsa_robot.core.errors import UserError
from wsa_robot.core.resources import data_dir
from wsa_robot.core.task_spec import TaskSpec

# Imports inside functions: gymnasium and the env module (mujoco, gymnasium-robotics) load when an env is made.

if TYPE_CHECKING:
    import gymnasium as gym

# FrankaKitchen-v1 subtasks (its `tasks_to_complete`), as task names write them: kitchen/light_switch
KITCHEN_SUBTASKS = ("microwave", "kettle", "light switch", "slide cabinet", "hinge cabinet", "bottom burner",
                    "top burner")
KITCHEN_TEMPLATE = "microwave"  # tasks/kitchen/microwave.yaml is the setup every other subset gets


class GymRoboticsBackend(Backend):
    name = "gym_robotics"
    depth = True
    prefix = "kitchen"
    frame_labels = ("depth", "segmentation")

    def make_env(self, task: TaskSpec, cameras: list[str], image_size: int, options: EnvOptions) -> gym.Env:
        from wsa_robot.envs.gym_robotics.env import GymRoboticsEnv

        o = options
        shaped = task.reward_shaping if o.reward_shaping is None else o.reward_shaping
        self.check_options(task, RunOptions(reward_shaping=shaped))  # also the task's own default
        return GymRoboticsEnv(task, cameras, image_size, depth=o.depth, seed=o.seed, horizon=o.horizon,
                              reward_shaping=o.reward_shaping, quality=o.quality, segmentation=o.segmentation,
                              video_size=o.video_size, state=o.state)

    def check_options(self, task: TaskSpec, options: RunOptions) -> None:
        if options.reward_shaping and not task.goal:
            raise UserError(f"task {task.name} has only its sparse reward (one per subtask done); "
                            "drop reward_shaping=true")
        if options.state and task.env_id.startswith("FetchReach"):
            raise UserError(f"task {task.name} has no object whose state encoders=state could give; "
                            "use camera encoders (see `wsa-robot encoders`)")
        super().check_options(task, options)

    def generate(self, rest: str) -> TaskSpec:
        """tasks/kitchen/microwave.yaml with other `tasks_to_complete` (underscores for spaces: light_switch,
        slide_cabinet, ...)."""
        names = [n.replace("_", " ") for n in rest.split("+")] if rest != "all" else list(KITCHEN_SUBTASKS)
        for n in names:
            if n not in KITCHEN_SUBTASKS:
                choices = [s.replace(" ", "_") for s in KITCHEN_SUBTASKS]
                close = difflib.get_close_matches(n.replace(" ", "_"), choices, n=2, cutoff=0.5)
                hint = f"did you mean kitchen/{close[0]}? " if close else ""
                raise UserError(f"unknown FrankaKitchen subtask {n.replace(' ', '_')!r}; {hint}choose from "
                                f"{', '.join(choices)}, joined with + (kitchen/microwave+kettle), or kitchen/all")
        if len(set(names)) != len(names):
            raise UserError(f"kitchen task {rest!r} names a subtask twice; name each once")
        data = yaml.safe_load((data_dir("tasks") / "kitchen" / f"{KITCHEN_TEMPLATE}.yaml").read_text())
        data["name"] = f"kitchen/{rest}"
        data.setdefault("env_kwargs", {})["tasks_to_complete"] = names
        data["description"] = f"FrankaKitchen: {', '.join(names)}"
        return TaskSpec(**data)
