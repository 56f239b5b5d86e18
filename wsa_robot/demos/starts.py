"""Training episodes that start along the demonstrations, moved back as the agent succeeds (a reverse curriculum,
as in RFCL, Tao et al. 2024, and DemoStart): config `demo_starts`.

Each demo gets a start index that begins one stride before its end, where the task is all but solved. An episode
started there ends (truncated, so its value is bootstrapped) once the task has been solved for HELD steps in a row
(what a recorded demo ends with, demos/record.py) or after a short limit; after PASSES consecutive successes from
the same start, that demo's start moves one stride back towards its first state. A demo whose first state has been
passed is done and starts no more episodes; once every demo is done, every episode starts as the task's own. While
any is left, a share `demo_starts` of training episodes starts from a demo (one of those left, at random); the rest,
and every evaluation, start as the task's own.

The curriculum lives in the training env's process and is not saved with a checkpoint: a resumed run starts each
demo again one stride before its end, which an agent that has learned passes in a few short episodes.
"""

from __future__ import annotations

# Imports inside functions: the file reader (h5py), only when a run reads its demos' states.

import math
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from wsa_robot.envs.robosuite.gripper import incremental_target

# Steps in a row the task must stay solved: a recorded demo ends so (demos/record.py), and so does an episode
# started from a demo's state. Here, not in record.py, so that env subprocesses import no torch (envs/worker.py).
HELD = 10

STAGES = 8  # strides per demo: a 41-step Lift demo moves back 6 steps at a time
PASSES = 2  # consecutive successes from one start that move it back
SLACK = 20  # a demo-started episode's limit: twice the demo's remaining steps plus this


@dataclass(frozen=True)
class DemoPath:
    """One demonstration as states an episode can start from: the flat MuJoCo state before each action, and the
    incremental gripper's target there (envs/robosuite/gripper.py)."""
    states: np.ndarray  # [T, S]
    gripper: np.ndarray  # [T]

    @classmethod
    def of(cls, states: np.ndarray, actions: np.ndarray) -> "DemoPath":
        targets = [incremental_target(actions[:t, -1]) for t in range(len(states))]
        return cls(np.asarray(states, np.float64), np.asarray(targets, np.float64))

    def __len__(self) -> int:
        return len(self.states)


def read_paths(path, n: int = 0) -> list[DemoPath]:
    """The first `n` demos of a robomimic file (0: all) as start paths (demos/robomimic_file.py read_states)."""
    from wsa_robot.demos.robomimic_file import read_states

    return [DemoPath.of(states, actions) for states, actions in read_states(path, n)]


@dataclass
class ReverseCurriculum:
    """Per demo, the index episodes start from and the successes in a row from it; `done` once index 0 passed."""
    lengths: list[int]
    start: list[int] = field(init=False)
    streak: list[int] = field(init=False)
    done: list[bool] = field(init=False)

    def __post_init__(self) -> None:
        self.start = [max(0, n - self.stride(i)) for i, n in enumerate(self.lengths)]
        self.streak = [0] * len(self.lengths)
        self.done = [False] * len(self.lengths)

    def stride(self, demo: int) -> int:
        return max(1, math.ceil(self.lengths[demo] / STAGES))

    def left(self) -> list[int]:
        return [i for i, d in enumerate(self.done) if not d]

    def record(self, demo: int, success: bool) -> None:
        """An episode from demo `demo`'s current start ended: PASSES successes in a row move the start back."""
        if self.done[demo]:
            return
        self.streak[demo] = self.streak[demo] + 1 if success else 0
        if self.streak[demo] < PASSES:
            return
        self.streak[demo] = 0
        if self.start[demo] == 0:
            self.done[demo] = True
        else:
            self.start[demo] = max(0, self.start[demo] - self.stride(demo))

    def progress(self) -> float:
        """The share of the demos' steps passed: behind the current start, or all of a done demo (1.0: all done)."""
        covered = sum(n if d else n - s - 1 for n, s, d in zip(self.lengths, self.start, self.done))
        return covered / max(1, sum(self.lengths))


class DemoStarts(gym.Wrapper):
    """Starts a share of the training episodes from demonstration states (the module's docstring). Wraps the
    backend env itself (RobosuiteEnv: `start_from`); its step infos carry `demo_start` (the demo's index, -1 for an
    episode of the task's own) and, at an episode's end, `curriculum` (ReverseCurriculum.progress)."""

    def __init__(self, env: gym.Env, paths: list[DemoPath], share: float, seed: int | None) -> None:
        super().__init__(env)
        self.paths, self.share = paths, share
        self.curriculum = ReverseCurriculum([len(p) for p in paths])
        self._rng = np.random.default_rng(None if seed is None else [seed, 0xDE305])
        self._demo, self._steps, self._solved_run, self._limit = -1, 0, 0, 0

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self._demo, self._steps, self._solved_run = -1, 0, 0
        left = self.curriculum.left()
        if left and self._rng.random() < self.share:
            demo = int(self._rng.choice(left))
            path, t = self.paths[demo], self.curriculum.start[demo]
            obs = self.env.unwrapped.start_from(path.states[t], float(path.gripper[t]))
            self._demo, self._limit = demo, 2 * (len(path) - t) + SLACK
        return obs, {**info, "demo_start": self._demo}

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = {**info, "demo_start": self._demo}
        if self._demo < 0:
            return obs, reward, terminated, truncated, info
        self._steps += 1
        self._solved_run = self._solved_run + 1 if info.get("success_now") else 0
        success = self._solved_run >= HELD
        if success or self._steps >= self._limit or terminated or truncated:
            self.curriculum.record(self._demo, success)
            info["curriculum"] = self.curriculum.progress()
            truncated = truncated or not terminated  # a cut, not an end: its value is bootstrapped
            self._demo = -1
        return obs, reward, terminated, truncated, info
