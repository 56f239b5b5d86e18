"""An action and the token weights of the very forward that chose it, handed out together as values.

The weights explain an action only when they come from the forward that chose it. A fusion forward keeps
nothing (fusion/attention.py); the caller captures the weights around the one call that acts:
- `act(model, obs)` for eval episodes, videos and scripts: the action and its [n_envs, K] weights;
- rollout collection in training, which SB3 drives itself: SAC acts in `_sample_action` (WeightsSAC wraps
  it), PPO in `policy.forward` (WeightsPPOPolicy wraps it). Each leaves the weights of the action last sent
  to the envs in `policy.rollout_weights`, which only that call writes; `rollout_weights(model)` reads it for
  TensorBoard and the progress line. Under `sac.overlap` the update that runs inside the env step, after
  the action was chosen, forwards the critic over a replay batch and leaves it alone.
"""

from __future__ import annotations

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import MultiInputActorCriticPolicy

from wsa_robot.agents.colored_noise import ColoredNoise
from wsa_robot.agents.sac_update import OnePassSAC
from wsa_robot.fusion import capture_weights


def policy_extractor(model: BaseAlgorithm) -> torch.nn.Module:
    """The fusion module whose weights drive behaviour: the actor's for SAC, the policy's for PPO."""
    policy = model.policy
    return policy.actor.features_extractor if hasattr(policy, "actor") else policy.pi_features_extractor


def act(model: BaseAlgorithm, obs, deterministic: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """`model.predict(obs)`'s action and the [n_envs, K] token weights it was chosen with (None for
    fusions without weights)."""
    with capture_weights(policy_extractor(model)) as weights:
        action, _ = model.predict(obs, deterministic=deterministic)
    return action, weights.value


def rollout_weights(model: BaseAlgorithm) -> np.ndarray | None:
    """The [n_envs, K] weights of the last action training sent to the envs; None before the policy acted
    (SAC's random warm-up) or for fusions without weights."""
    return getattr(model.policy, "rollout_weights", None)


class WeightsSAC(OnePassSAC):
    """SAC that records the weights of each rollout action in `policy.rollout_weights`, and explores with
    temporally correlated noise when `noise_beta` > 0 (agents/colored_noise.py; 0: SB3's white noise).
    Its first `expert_steps` actions come from the envs' scripted controller (envs/robosuite/experts.py) instead of
    SB3's uniform random warm-up; they are stored and learned from like any other."""

    def __init__(self, *args, noise_beta: float = 0.0, expert_steps: int = 0, **kwargs) -> None:
        self.noise_beta, self.expert_steps = noise_beta, expert_steps
        self._noise: ColoredNoise | None = None
        super().__init__(*args, **kwargs)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_noise"]  # exploration state: drawn afresh after a load

    def _sample_action(self, learning_starts, action_noise=None, n_envs: int = 1):
        if self.num_timesteps < self.expert_steps:
            self.policy.rollout_weights = None  # the policy did not act
            action = np.stack(self.env.env_method("expert_action")).astype(np.float32)
            return action, self.policy.scale_action(action)
        with capture_weights(policy_extractor(self)) as weights:
            if self.noise_beta > 0 and self.num_timesteps >= learning_starts:
                out = self._colored_action(n_envs)
            else:
                out = super()._sample_action(learning_starts, action_noise, n_envs)
        self.policy.rollout_weights = weights.value  # None while actions are random (no forward ran)
        return out

    def _colored_action(self, n_envs: int) -> tuple[np.ndarray, np.ndarray]:
        """tanh(mean + std * eps) with eps from this env's colored sequence: SAC's own sample, with the
        Gaussian's draws correlated in time. Returns (env action, buffer action in [-1, 1]) as SB3 does."""
        if self._noise is None or len(self._noise.t) != n_envs:
            dims = int(np.prod(self.action_space.shape))
            self._noise = ColoredNoise(self.noise_beta, n_envs, dims, seed=self.seed)
        obs, _ = self.policy.obs_to_tensor(self._last_obs)
        with torch.no_grad():
            mean, log_std, _ = self.actor.get_action_dist_params(obs)
        eps = torch.as_tensor(self._noise.draw(), dtype=mean.dtype, device=mean.device)
        scaled = torch.tanh(mean + log_std.exp() * eps).cpu().numpy()
        return self.policy.unscale_action(scaled), scaled

    def _store_transition(self, replay_buffer, buffer_action, new_obs, reward, dones, infos) -> None:
        if self._noise is not None:
            for env in np.flatnonzero(dones):
                self._noise.restart(env)  # a new episode, a new sequence
        super()._store_transition(replay_buffer, buffer_action, new_obs, reward, dones, infos)


class WeightsPPOPolicy(MultiInputActorCriticPolicy):
    """SB3's PPO policy; `forward` (called by SB3 only to collect rollouts) records its weights in
    `rollout_weights`. No parameter of its own: runs saved with SB3's class load into it."""

    rollout_weights: np.ndarray | None = None

    def forward(self, obs, deterministic: bool = False):
        with capture_weights(self.pi_features_extractor) as weights:
            out = super().forward(obs, deterministic)
        self.rollout_weights = weights.value
        return out
