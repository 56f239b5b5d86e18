"""The envs an agent learns from, and torch's threads beside them: as `make_vec_env(training=True)`, plus, when
SAC's updates overlap env steps (agents/overlap.py), a subprocess even for one env and the UpdateDuringStep
wrapper."""

from __future__ import annotations

from contextlib import AbstractContextManager

from stable_baselines3.common.vec_env import VecEnv

from wsa_robot.agents.overlap import UpdateDuringStep, overlaps
from wsa_robot.agents.threads import torch_threads_for
from wsa_robot.run.pipeline import env_subprocesses, make_vec_env


def training_env_config(cfg):
    """The config the training envs are built from: with overlapping updates `vec_env: auto` means a
    subprocess even for one env, since the update can only run while a subprocess steps."""
    if overlaps(cfg) and cfg.vec_env == "auto":
        return cfg.model_copy(update={"vec_env": "subproc"})
    return cfg


def training_env_subprocesses(cfg) -> int:
    """How many env subprocesses `make_training_env` starts (0: the envs step in this process)."""
    cfg = training_env_config(cfg)
    return env_subprocesses(cfg.vec_env, cfg.n_envs)


def learner_threads(cfg) -> AbstractContextManager[None]:
    """torch's thread count while training, for the training env's subprocesses (agents/threads.py)."""
    return torch_threads_for(cfg, training_env_subprocesses(cfg))


def make_training_env(cfg, pipe, **kwargs) -> VecEnv:
    """The envs an agent learns from: as `make_vec_env(training=True)`, plus, when updates overlap env steps,
    a subprocess even for one env (`vec_env: auto`) and the UpdateDuringStep wrapper; `attach_learner` then
    hands it the model."""
    cfg = training_env_config(cfg)
    venv = make_vec_env(pipe, cfg.n_envs, pipe.spec.seeds.training, training=True, vec_env=cfg.vec_env, **kwargs)
    return UpdateDuringStep(venv) if overlaps(cfg) else venv
