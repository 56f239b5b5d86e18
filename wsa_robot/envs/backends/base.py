"""What a backend is: one class that makes a task's envs and knows what they can do (cameras, depth,
variations, option checks, the tasks it generates from a name). The registry is envs/backends/__init__.py.

A backend module stays light (no simulator at import): `wsa-robot tasks`, config validation and `resolve`
ask a backend about a task without making an env, so simulators are imported inside `make_env` and friends.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

from wsa_robot.core.errors import UserError
from wsa_robot.core.task_spec import TaskSpec

if TYPE_CHECKING:  # annotations only: importing them would load gymnasium
    import gymnasium as gym

    from wsa_robot.envs.variations import Variation
    from wsa_robot.envs.visual_mix import VisualMix


@dataclass(frozen=True)
class RunOptions:
    """What a run decides for all its envs, once (run/spec.py `resolve`), and what a backend may refuse
    (`Backend.check_options`, in the caller's process, and again by `make_env`: env subprocesses would only
    crash). `state`: the observation also holds `state`, the privileged object state. `controller`: the
    robosuite arm controller. `control_freq`: actions per simulated second; None: the task's. `gripper`:
    envs/robosuite/gripper.py. `expert`: the first steps are played by a scripted controller (`sac.expert_steps`).
    `reward_scale` and `visual_mix` (a new visual variation every episode, envs/visual_mix.py) apply to the envs
    an agent learns from only (run/pipeline.py wraps them)."""
    reward_shaping: bool | None = None
    state: bool = False
    controller: str = "osc_pose"
    reward_scale: float = 1.0
    control_freq: int | None = None
    gripper: str = "incremental"
    expert: bool = False
    horizon: int | None = None
    quality: dict[str, bool] | None = None
    visual_mix: VisualMix | None = None


@dataclass(frozen=True)
class EnvOptions(RunOptions):
    """One env: its run's options and what differs between the envs of a run.
    `training`: the env an agent learns from (Atari: episodic life, clipped rewards); eval envs report real
    returns. `variation`: a named visual variation, NAME or NAME:SEED, already checked; None: intact.
    `depth`: depth maps beside the images. `segmentation`: per-pixel class labels beside each camera
    (pretraining frames). `video_size`: the env can also render full-quality video frames."""
    depth: bool = False
    seed: int | None = None
    video_size: int | None = None
    training: bool = False
    variation: str | None = None
    segmentation: bool = False

    @classmethod
    def of(cls, run: RunOptions, **per_env: Any) -> EnvOptions:
        """The run's options with this env's."""
        return cls(**{f.name: getattr(run, f.name) for f in fields(RunOptions)}, **per_env)


class Backend:
    """A simulator family behind one interface. Subclasses set `name` and override `make_env`; the rest has
    defaults for a backend without depth, variations, generated tasks or options of its own."""

    name: ClassVar[str]
    depth: ClassVar[bool] = False  # renders depth maps beside the images (encoders of modality depth)
    prefix: ClassVar[str | None] = None  # generates the tasks named `<prefix>/<rest>` that have no YAML
    # what pretraining frames come with: depth, segmentation, a frame stack, the PRIVILEGED state (twins come with
    # variations_in_place: pretrain/collect.py `labels`)
    frame_labels: ClassVar[tuple[str, ...]] = ()
    pretrain_episode: ClassVar[int | None] = None  # random-policy steps per pretraining episode; None: whole
    controllers: ClassVar[tuple[str, ...]] = ("osc_pose",)  # config `controller` values; osc_pose: the default
    control_rates: ClassVar[bool] = False  # config `control_freq` sets how often the agent acts
    gripper_modes: ClassVar[tuple[str, ...]] = ("incremental",)  # config `gripper` values (envs/robosuite/gripper.py)
    variations_in_place: ClassVar[bool] = False  # its envs' `set_variation` switches between episodes

    def make_env(self, task: TaskSpec, cameras: list[str], image_size: int, options: EnvOptions) -> gym.Env:
        """A gymnasium env with a Dict observation: one uint8 image per camera (`<camera>_depth` with
        options.depth), `proprio`, and what the options ask for."""
        raise NotImplementedError

    def generate(self, rest: str) -> TaskSpec:
        """The task `<prefix>/<rest>`; a UserError naming the valid ones when there is none."""
        raise NotImplementedError

    def cameras(self, task: TaskSpec) -> list[str]:
        """The cameras a run of `task` may name."""
        return list(task.available_cameras)

    def variations(self, task: TaskSpec) -> dict[str, Variation]:
        """The named visual variations of `task`, in the order `--variations all` runs them; {}: none."""
        return {}

    def check_options(self, task: TaskSpec, options: RunOptions) -> None:
        """Options the backend cannot honour, as a UserError naming the fix. Subclasses add theirs."""
        if options.controller not in self.controllers:
            raise UserError(f"controller={options.controller} chooses a robosuite arm controller; task {task.name} "
                            f"({task.backend}) has its own action space: drop the override")
        if options.control_freq is not None and not self.control_rates:
            raise UserError(f"control_freq={options.control_freq} sets robosuite's control rate; task {task.name} "
                            f"({task.backend}) acts at its own rate: drop the override")
        if options.gripper not in self.gripper_modes:
            raise UserError(f"gripper={options.gripper} sets how a robosuite gripper takes its action; task "
                            f"{task.name} ({task.backend}) has its own action space: drop the override")
        if options.expert and not self.has_expert(task):
            raise UserError(f"sac.expert_steps: task {task.name} has no scripted controller to play its first "
                            "steps (robosuite Lift, Stack, Door and PickPlaceCan have one, envs/robosuite/experts.py); "
                            "drop sac.expert_steps")
        if options.reward_scale != 1.0 and task.goal:
            raise UserError(f"task {task.name} learns with HER, which recomputes rewards unscaled; "
                            "drop reward_scale (keep 1.0)")

    def has_expert(self, task: TaskSpec) -> bool:
        """Whether `task` has a scripted controller for `sac.expert_steps` (the env's `expert_action`)."""
        return False

    def frames_options(self, seed: int, episode_length: int | None, dense: bool = True) -> EnvOptions:
        """The env pretraining collects frames from: every label the backend renders (`dense` False: without
        the depth and segmentation renders, which double a step's cost), episodes of `episode_length` steps."""
        return EnvOptions(depth=dense and "depth" in self.frame_labels,
                          segmentation=dense and "segmentation" in self.frame_labels,
                          state="state" in self.frame_labels, seed=seed, horizon=episode_length)
