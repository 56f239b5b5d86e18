"""Carry a trained agent and its replay buffer over to a larger token set (`train --resume --add-encoder`).

A new token changes the observation space (one more key, a longer token_mask), and SB3 fixes the space when
it builds a model, so the agent is rebuilt for the new tokens and every trained parameter is copied in by name
and shape. WSA and DPA key their adapters by token name and their scorer, context and heads do not depend on
the number of tokens, so only the new token's adapter starts fresh. The optimizers start fresh too (Adam's
moments are per parameter tensor and the parameter list changed); SAC's entropy coefficient is kept.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import DictReplayBuffer
from stable_baselines3.common.save_util import json_to_data

from wsa_robot.core.keys import MASK_KEY


def saved_observation_keys(path: Path) -> set[str]:
    """The observation keys a checkpoint was trained on, read from its zip without building the model."""
    with zipfile.ZipFile(path) as z:
        data = json_to_data(z.read("data").decode())
    return set(data["observation_space"].spaces)


def transplant(old: BaseAlgorithm, new: BaseAlgorithm) -> list[str]:
    """Copy every policy parameter and buffer (SAC: actor, critic, critic_target) whose name and shape match,
    the entropy coefficient and the step counters; returns the names left at their fresh initialisation."""
    old_state, new_state = old.policy.state_dict(), new.policy.state_dict()
    kept = {k: v for k, v in old_state.items() if k in new_state and new_state[k].shape == v.shape}
    new.policy.load_state_dict({**new_state, **kept})
    for name in ("log_ent_coef", "ent_coef_tensor"):  # a tensor outside the policy; copied in place (optimizer)
        if isinstance(getattr(old, name, None), torch.Tensor) and isinstance(getattr(new, name, None), torch.Tensor):
            with torch.no_grad():
                getattr(new, name).copy_(getattr(old, name))
    new.num_timesteps, new._n_updates, new._episode_num = old.num_timesteps, old._n_updates, old._episode_num
    return [k for k in new_state if k not in kept]


def grow_replay_buffer(old: DictReplayBuffer, new: DictReplayBuffer, old_tokens: list[str],
                       new_tokens: list[str]) -> None:
    """Copy every stored transition of `old` into `new` (same size and envs, more tokens): a token the old
    buffer lacks stays zeros with token_mask 0 in obs and next_obs, so the transition is masked, not lost."""
    if (old.buffer_size, old.n_envs) != (new.buffer_size, new.n_envs):
        raise ValueError(f"replay buffer shape {(old.buffer_size, old.n_envs)} != {(new.buffer_size, new.n_envs)}")
    where = {t: i for i, t in enumerate(old_tokens)}
    for src, dst in ((old.observations, new.observations), (old.next_observations, new.next_observations)):
        for key, array in dst.items():
            if key == MASK_KEY:
                array[...] = 0.0
                for j, token in enumerate(new_tokens):
                    if token in where:
                        array[..., j] = src[MASK_KEY][..., where[token]]
            elif key in src:
                array[...] = src[key]
    for name in ("actions", "rewards", "dones", "timeouts", "ep_start", "ep_length", "infos", "_current_ep_start"):
        if hasattr(old, name) and hasattr(new, name):  # the last four: HER's episode bookkeeping
            getattr(new, name)[...] = getattr(old, name)
    new.pos, new.full = old.pos, old.full


def mask_tokens(buffer: DictReplayBuffer, token_keys: list[str], removed: list[str]) -> None:
    """Set token_mask to 0 for `removed` in every stored transition, so updates after a removal never see the
    token, exactly as the acting policy no longer does."""
    idx = [token_keys.index(t) for t in removed if t in token_keys]
    if not idx:
        return
    for store in (buffer.observations, buffer.next_observations):
        if MASK_KEY in store and store[MASK_KEY].shape[-1] == len(token_keys):
            store[MASK_KEY][..., idx] = np.float32(0.0)
