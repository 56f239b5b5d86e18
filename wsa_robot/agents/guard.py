"""Stop training at the first NaN/inf, before a checkpoint can store it.

One bad embedding or reward reaches the replay buffer, then the critic's target, then every weight, within a
few updates; a run that keeps going saves a checkpoint that can never be used again. The guard runs first
among the callbacks of a step, so the checkpoint callback of that step never sees the fault.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

from wsa_robot.core.errors import NonFiniteError


def _check_obs(obs: Any, what: str, step: int) -> None:
    """`obs`: a dict of arrays (or one array); integer arrays (pixels) cannot hold NaN and are skipped."""
    if obs is None:
        return
    items = obs.items() if isinstance(obs, dict) else [("", obs)]
    for key, value in items:
        value = np.asarray(value)
        if np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
            raise NonFiniteError(f"non-finite {what}{f' {key!r}' if key else ''} at step {step}")


def check_losses(values: dict[str, Any], step: int) -> None:
    """The losses SB3 recorded since the last log dump (train/actor_loss, train/critic_loss, train/loss, ...)."""
    for key, value in values.items():
        if key.startswith("train/") and "loss" in key and isinstance(value, (float, int, np.floating)) \
                and not np.isfinite(value):
            raise NonFiniteError(f"non-finite {key} ({value}) at step {step}")


def check_parameters(model: BaseAlgorithm) -> None:
    """Every trainable tensor of the policy (SAC: actor, critic, critic target) and SAC's entropy coefficient."""
    tensors = list(model.policy.named_parameters())
    tensors += [(n, getattr(model, n)) for n in ("log_ent_coef",) if isinstance(getattr(model, n, None), torch.Tensor)]
    for name, tensor in tensors:
        if not torch.isfinite(tensor).all():
            raise NonFiniteError(f"non-finite parameter {name} at step {model.num_timesteps}")


class FiniteGuard(BaseCallback):
    """Checks each step's new observations (embeddings), terminal observations and rewards, the latest
    losses (also before each rollout), and every `params_every` steps all parameters; raises NonFiniteError
    at the first NaN/inf."""

    def __init__(self, params_every: int = 100) -> None:
        super().__init__()
        self.params_every = params_every

    def _on_step(self) -> bool:
        step = self.num_timesteps
        _check_obs(self.locals.get("new_obs"), "observation", step)
        for info in self.locals.get("infos") or []:
            if "terminal_observation" in info:
                _check_obs(info["terminal_observation"], "terminal observation", step)
        rewards = self.locals.get("rewards")
        if rewards is not None and not np.isfinite(np.asarray(rewards, np.float64)).all():
            raise NonFiniteError(f"non-finite reward at step {step}")
        check_losses(self.logger.name_to_value, step)
        if self.params_every and self.n_calls % self.params_every == 0:
            check_parameters(self.model)
        return True

    def _on_rollout_start(self) -> None:
        """Before the next action is sampled: the last update's losses (a NaN there has already reached the
        shared fusion module, and torch's Normal would fail on it) and the observation it acts on (a reset's)."""
        check_losses(self.logger.name_to_value, self.num_timesteps)
        _check_obs(getattr(self.model, "_last_obs", None), "observation", self.num_timesteps)

    def _on_training_end(self) -> None:
        check_losses(self.logger.name_to_value, self.num_timesteps)
