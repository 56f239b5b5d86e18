"""How a run's training shares the machine, decided once by `spec.resolve`: whether SAC's updates overlap the
env's steps, where the training envs step (this process or subprocesses), and torch's thread count beside them.
run/training_env.py builds from it; nothing downstream decides again."""

from __future__ import annotations

from dataclasses import dataclass

from wsa_robot.agents.overlap import overlaps
from wsa_robot.agents.threads import learner_threads
from wsa_robot.config import RunConfig

DUMMY, SUBPROC = "dummy", "subproc"


@dataclass(frozen=True)
class TrainingSetup:
    """`overlap`: updates run while the env subprocess steps (agents/overlap.py). `vec_env`: dummy or subproc
    for the training envs (never auto). `env_subprocesses`: how many that starts. `torch_threads`: the learner's
    count while training (None: torch's default)."""
    overlap: bool
    vec_env: str
    env_subprocesses: int
    torch_threads: int | None


def use_subprocesses(vec_env: str, n_envs: int) -> bool:
    """`auto`: one subprocess per env when there are several (robosuite renders: ~30 steps/s per process).

    Cheap envs lose from it on a small machine: 8 Pong envs with random actions on 2 busy cores (load 7-9),
    3 alternating rounds of 3 s: one process (dummy) 766/1004/873 agent steps/s, 8 subprocesses 709/625/624,
    and the subprocesses took 26-31 s to start against 2.5 s. An ALE step costs less than the pickling and
    context switches around it, so the Atari tasks set `vec_env: dummy`."""
    return vec_env == SUBPROC or (vec_env == "auto" and n_envs > 1)


def env_subprocesses(vec_env: str, n_envs: int) -> int:
    """How many subprocesses n_envs envs step in under `vec_env` (0: they step in this process)."""
    return n_envs if use_subprocesses(vec_env, n_envs) else 0


def training_setup(cfg: RunConfig) -> TrainingSetup:
    """With overlapping updates `vec_env: auto` means a subprocess even for one env, since the update can only
    run while a subprocess steps; torch gets the cores the subprocesses leave (agents/threads.py)."""
    overlap = overlaps(cfg)
    vec_env = SUBPROC if overlap and cfg.vec_env == "auto" else cfg.vec_env
    workers = env_subprocesses(vec_env, cfg.n_envs)
    return TrainingSetup(overlap, SUBPROC if workers else DUMMY, workers, learner_threads(cfg, workers))
