"""n-step returns for SAC on Dict observations (`sac.n_steps`).

stable-baselines3 2.9.2 has NStepReplayBuffer for Box observations only ("N-step returns are not supported
for Dict observation spaces yet"); this is the same computation on SB3's DictReplayBuffer storage: for a
sampled transition t of env e, the rewards of t..t+n-1 are summed with discounts 1, g, ..., g^(n-1), stopping
after the first step that ends an episode (terminated or truncated); next_obs is that last step's next
observation, `dones` is 1 only if it terminated (a truncation still bootstraps), and `discounts` is g^k for the
k steps summed. SB3's SAC.train() reads `replay_data.discounts` when present (target = r + (1-done) * discount *
Q'), so SAC itself needs no change. The newest stored step counts as an episode end while sampling: the steps
after it are not written yet (or, in a full buffer, are the oldest ones, of another episode).
"""

from __future__ import annotations

import numpy as np
from stable_baselines3.common.buffers import DictReplayBuffer
from stable_baselines3.common.type_aliases import DictReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize


class DictNStepReplayBuffer(DictReplayBuffer):
    def __init__(self, *args, n_steps: int = 3, gamma: float = 0.99, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if n_steps < 1:
            raise ValueError(f"n_steps must be >= 1, got {n_steps}")
        self.n_steps, self.gamma = n_steps, gamma

    def window(self, batch_inds: np.ndarray, env_inds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                            np.ndarray]:
        """For each (index, env): the discounted reward sum [B, 1], the index of the window's last step [B],
        whether that step terminated (not truncated) [B, 1], and the bootstrap discount g^k [B, 1]."""
        steps = np.arange(self.n_steps)
        indices = (batch_inds[:, None] + steps[None, :]) % self.buffer_size  # [B, n]
        ends = np.logical_or(self.dones[indices, env_inds[:, None]], self.timeouts[indices, env_inds[:, None]])
        ends |= indices == (self.pos - 1) % self.buffer_size  # the newest step: nothing after it to use
        last = np.where(ends.any(axis=1), ends.argmax(axis=1), self.n_steps - 1)  # first end, inclusive
        mask = steps[None, :] <= last[:, None]
        rewards = self.rewards[indices, env_inds[:, None]]
        returns = (rewards * self.gamma ** steps[None, :] * mask).sum(axis=1, keepdims=True).astype(np.float32)
        discounts = (self.gamma ** mask.sum(axis=1, keepdims=True)).astype(np.float32)
        last_inds = (batch_inds + last) % self.buffer_size
        terminated = self.dones[last_inds, env_inds] * (1.0 - self.timeouts[last_inds, env_inds])
        return returns, last_inds, terminated[:, None].astype(np.float32), discounts

    def _get_samples(self, batch_inds: np.ndarray, env: VecNormalize | None = None) -> DictReplayBufferSamples:
        env_inds = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))
        if env is not None:
            raise NotImplementedError("n-step returns with VecNormalize rewards are not supported")
        returns, last_inds, terminated, discounts = self.window(batch_inds, env_inds)
        obs = {k: v[batch_inds, env_inds, :] for k, v in self.observations.items()}
        next_obs = {k: v[last_inds, env_inds, :] for k, v in self.next_observations.items()}
        return DictReplayBufferSamples(
            observations={k: self.to_torch(v) for k, v in obs.items()},
            actions=self.to_torch(self.actions[batch_inds, env_inds]),
            next_observations={k: self.to_torch(v) for k, v in next_obs.items()},
            dones=self.to_torch(terminated),
            rewards=self.to_torch(returns),
            discounts=self.to_torch(discounts),
        )
