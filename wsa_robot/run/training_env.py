"""The envs an agent learns from, and torch's threads beside them, as the run's TrainingSetup says
(run/training_setup.py, decided by spec.resolve): `make_vec_env(training=True)` in this process or in
subprocesses, plus the UpdateDuringStep wrapper when SAC's updates overlap the env's steps."""

from __future__ import annotations

from contextlib import AbstractContextManager

from stable_baselines3.common.vec_env import VecEnv

from wsa_robot.agents.overlap import UpdateDuringStep
from wsa_robot.agents.threads import torch_threads
from wsa_robot.run.pipeline import Pipeline, make_vec_env
from wsa_robot.run.spec import RunSpec


def training_threads(spec: RunSpec) -> AbstractContextManager[None]:
    """torch's thread count while the run trains (TrainingSetup.torch_threads)."""
    return torch_threads(spec.training.torch_threads)


def make_training_env(pipe: Pipeline, **kwargs) -> VecEnv:
    """The envs an agent learns from; `attach_learner` then hands the model to the overlap wrapper."""
    spec = pipe.spec
    venv = make_vec_env(pipe, spec.cfg.n_envs, spec.seeds.training, training=True, vec_env=spec.training.vec_env,
                        **kwargs)
    return UpdateDuringStep(venv) if spec.training.overlap else venv
