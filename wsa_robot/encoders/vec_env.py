"""A VecEnv wrapper that swaps camera images for frozen embeddings, so buffers never hold pixels."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from wsa_robot.encoders.bank import EncoderBank

MASK_KEY = "token_mask"


class EmbeddingVecEnv(VecEnvWrapper):
    """Observations become {token: embedding, "proprio": vec, "token_mask": [K]} (K = len(token_keys))."""

    def __init__(self, venv: VecEnv, bank: EncoderBank, token_keys: list[str]) -> None:
        self.bank, self.token_keys = bank, list(token_keys)
        src = venv.observation_space
        bank.check_channels({c: src[c].shape[-1] for c in bank.cameras if c in src.spaces})
        obs_spaces: dict[str, spaces.Space] = {
            key: spaces.Box(-np.inf, np.inf, shape, bank.dtype) for key, shape in bank.token_shapes.items()
        }
        if "proprio" in src.spaces:
            obs_spaces["proprio"] = src["proprio"]
        obs_spaces[MASK_KEY] = spaces.Box(0.0, 1.0, (len(self.token_keys),), np.float32)
        super().__init__(venv, observation_space=spaces.Dict(obs_spaces))

    def _embed(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = self.bank.embed(obs)
        if "proprio" in obs:
            out["proprio"] = obs["proprio"]
        n = len(next(iter(obs.values())))  # envs, plus terminal observations when stacked with them
        out[MASK_KEY] = np.ones((n, len(self.token_keys)), np.float32)
        return out

    def reset(self) -> dict[str, np.ndarray]:
        return self._embed(self.venv.reset())

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        terminal = [i for i, info in enumerate(infos) if "terminal_observation" in info]
        if terminal:  # embed the final observations in the same batched call as the new ones
            stacked = {k: np.concatenate([obs[k], np.stack([infos[i]["terminal_observation"][k] for i in terminal])])
                       for k in obs}
            embedded = self._embed(stacked)
            n = len(rewards)
            for j, i in enumerate(terminal):
                infos[i]["terminal_observation"] = {k: v[n + j] for k, v in embedded.items()}
            return {k: v[:n] for k, v in embedded.items()}, rewards, dones, infos
        return self._embed(obs), rewards, dones, infos
