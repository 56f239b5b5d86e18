"""One env of a run, as a picklable recipe that an env subprocess builds; this module and what it imports load no
torch (envs/worker.py says why)."""

from __future__ import annotations

import signal
from dataclasses import dataclass

import gymnasium as gym

from wsa_robot.core.task_spec import TaskSpec
from wsa_robot.demos.starts import DemoPath, DemoStarts
from wsa_robot.envs import EnvOptions, make_env
from wsa_robot.envs.faults import Fault, FaultWrapper
from wsa_robot.envs.monitor import EpisodeMonitor, is_wrapped
from wsa_robot.envs.reward import ScaledReward
from wsa_robot.envs.visual_mix import VaryEachEpisode


@dataclass(frozen=True)
class EnvRecipe:
    """The backend env and the wrappers a run puts on it (pipeline.make_vec_env decides every field).
    `starts`: the demos' states training episodes may start from, a share `demo_starts` of them;
    `switchable`: a FaultWrapper also without faults, so `set_faults` can change them in place;
    `worker`: built in an env subprocess, which leaves Ctrl-C to the main process."""
    task: TaskSpec
    cameras: tuple[str, ...]
    image_size: int
    options: EnvOptions
    starts: tuple[DemoPath, ...] = ()
    demo_starts: float = 0.0
    faults: tuple[Fault, ...] = ()
    switchable: bool = False
    report_valid: bool = True
    worker: bool = False

    def __call__(self) -> gym.Env:
        if self.worker:  # Ctrl-C reaches the whole process group: the main process checkpoints, then closes us
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        o = self.options
        env = make_env(self.task, list(self.cameras), self.image_size, o)
        if o.training and self.starts:  # a reverse curriculum from the demos' states (demos/starts.py)
            env = DemoStarts(env, list(self.starts), self.demo_starts, o.seed)
        if o.training and o.visual_mix:  # domain randomisation; evaluations stay intact
            env = VaryEachEpisode(env, o.visual_mix, o.seed)
        if o.training and o.reward_scale != 1.0:  # eval envs report the task's own returns, comparable across runs
            env = ScaledReward(env, o.reward_scale)
        if self.faults or self.switchable:
            env = FaultWrapper(env, list(self.faults), seed=o.seed, cameras=list(self.cameras),
                               report_valid=self.report_valid)
        # a backend may monitor its env itself, under wrappers that change episodes (Atari's lives)
        return env if is_wrapped(env, EpisodeMonitor) else EpisodeMonitor(env)
