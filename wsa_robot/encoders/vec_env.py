"""A VecEnv wrapper that swaps camera images for frozen embeddings, so buffers never hold pixels."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from wsa_robot.encoders.bank import EncoderBank
from wsa_robot.envs.faults import VALID_SUFFIX  # `<camera>_valid` [N, 1]: 1 = a fresh frame
from wsa_robot.core.keys import MASK_KEY, PROPRIO, split_token


def camera_valid_mask(obs: dict[str, np.ndarray], token_keys: list[str], n: int) -> np.ndarray:
    """[n, K] float mask: 0 for every `encoder@camera` token whose camera's frame is not valid this step;
    1 for the others (vector tokens such as proprio, and cameras without a `_valid` key)."""
    mask = np.ones((n, len(token_keys)), np.float32)
    for i, key in enumerate(token_keys):
        camera = split_token(key)
        valid = obs.get(camera[1] + VALID_SUFFIX) if camera else None
        if valid is not None:
            mask[:, i] = np.asarray(valid, np.float32).reshape(n)
    return mask


class EmbeddingVecEnv(VecEnvWrapper):
    """Observations become {token: embedding, "proprio": vec, "token_mask": [K]} (K = len(token_keys)), plus
    the other raw vectors named in `vector_keys` (goal tasks: achieved_goal, desired_goal)."""

    def __init__(self, venv: VecEnv, bank: EncoderBank, token_keys: list[str], mask_invalid: bool = True,
                 removed: Sequence[str] = (), idle_shapes: dict[str, tuple[int, ...]] | None = None,
                 vector_keys: Sequence[str] = (PROPRIO,)) -> None:
        self.bank, self.token_keys = bank, list(token_keys)
        # vector_keys: non-image observations passed through as they are, when the env has them (proprio, and
        # the goal vectors achieved_goal / desired_goal that HER relabels in the replay buffer)
        self.vector_keys = [k for k in vector_keys if k in venv.observation_space.spaces]
        # removed tokens stay in the space (a saved model loads unchanged) but are zeros with token_mask 0;
        # idle_shapes: removed tokens of encoders the bank no longer runs
        self.removed, self.idle_shapes = [k for k in token_keys if k in set(removed)], dict(idle_shapes or {})
        self.mask_invalid = mask_invalid  # `<camera>_valid` == 0 (dropped/stale frame) masks that camera's tokens
        src = venv.observation_space
        bank.check_channels({c: src[c].shape[-1] for c in bank.cameras if c in src.spaces})
        obs_spaces: dict[str, spaces.Space] = {
            key: spaces.Box(-np.inf, np.inf, shape, bank.dtype)
            for key, shape in {**bank.token_shapes, **self.idle_shapes}.items()
        }
        for key in self.vector_keys:
            obs_spaces[key] = src[key]
        obs_spaces[MASK_KEY] = spaces.Box(0.0, 1.0, (len(self.token_keys),), np.float32)
        super().__init__(venv, observation_space=spaces.Dict(obs_spaces))

    def embed(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The embedded observation of a batch of raw ones (also for raw observations from elsewhere)."""
        out = self.bank.embed(obs)
        for key in self.vector_keys:
            out[key] = obs[key]
        n = len(next(iter(obs.values())))  # envs, plus terminal observations when stacked with them
        out[MASK_KEY] = np.ones((n, len(self.token_keys)), np.float32)
        if self.mask_invalid:
            out[MASK_KEY] *= camera_valid_mask(obs, self.token_keys, n)
        for key in self.removed:
            out[key] = np.zeros((n, *self.observation_space[key].shape), self.observation_space[key].dtype)
            out[MASK_KEY][:, self.token_keys.index(key)] = 0.0
        return out

    def reset(self) -> dict[str, np.ndarray]:
        return self.embed(self.venv.reset())

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        terminal = [i for i, info in enumerate(infos) if "terminal_observation" in info]
        if terminal:  # embed the final observations in the same batched call as the new ones
            stacked = {k: np.concatenate([obs[k], np.stack([infos[i]["terminal_observation"][k] for i in terminal])])
                       for k in obs}
            embedded = self.embed(stacked)
            n = len(rewards)
            for j, i in enumerate(terminal):
                infos[i]["terminal_observation"] = {k: v[n + j] for k, v in embedded.items()}
            return {k: v[:n] for k, v in embedded.items()}, rewards, dones, infos
        return self.embed(obs), rewards, dones, infos
