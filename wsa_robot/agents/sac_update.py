"""SAC's gradient step with each fusion pass computed once: SB3's `SAC.train`, same losses, fewer forwards.

The actor reads the critic's fusion module (sac_policy.py), so in SB3's order one update ran that module five
times on 256 samples: the actor's pass over the observations, its pass over the next observations, the target
critic's pass, the critic's pass with gradients, and the critic's pass that scores the actor's actions. The
first and the fourth are the same function of the same inputs (no parameter moves between them): here the
critic's pass runs first and the actor reads its features detached, which leaves four. `actor_features`
decides the fifth:

- "fresh" (SB3's): the critic that scores the actor's actions extracts the observations again, after its own
  optimizer step; the update is SB3's, draw for draw (tests/test_sac_update.py compares them).
- "reused" (DrQ-v2's): it scores them on the features the actor chose them from, extracted before that step,
  so the actor's loss sees one state representation; three passes. The critic heads are still the updated ones.

The target network is updated with torch's foreach kernels (the same multiply and add as SB3's polyak_update,
one call for all tensors), and every pass that needs no gradient runs under inference mode.
`timer` (profiling only, benchmarks/profile_sac_update.py) is told where each part of the update begins.
"""

from __future__ import annotations

# Imports inside functions: the demos' sampler (demos/replay.py), only for a run with demos.

from typing import Callable, Literal

import numpy as np
import torch
from stable_baselines3 import SAC
from stable_baselines3.sac.policies import LOG_STD_MAX, LOG_STD_MIN
from torch.nn import functional as F

from wsa_robot.agents.sac_policy import actions_only_heads, critic_heads

ActorFeatures = Literal["fresh", "reused"]
ACTOR_FEATURES: tuple[str, ...] = ("fresh", "reused")


def _no_timer(part: str) -> None:
    return None


def actor_sample(actor, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The actor's reparametrised action and its log-probability from already extracted features
    (SB3's Actor.action_log_prob without the extraction)."""
    latent_pi = actor.latent_pi(features)
    log_std = torch.clamp(actor.log_std(latent_pi), LOG_STD_MIN, LOG_STD_MAX)
    return actor.action_dist.log_prob_from_params(actor.mu(latent_pi), log_std)


class OnePassSAC(SAC):
    """SAC whose `train()` runs each fusion pass once (module docstring). `actor_features`: "fresh" (SB3's
    update exactly) or "reused" (DrQ-v2's). A policy whose actor has a module of its own, or gSDE, trains with
    SB3's own `train()`."""

    def __init__(self, *args, actor_features: ActorFeatures = "fresh", **kwargs) -> None:
        if actor_features not in ACTOR_FEATURES:
            raise ValueError(f"actor_features must be one of {', '.join(ACTOR_FEATURES)}, not {actor_features!r}")
        self.actor_features = actor_features
        self.timer: Callable[[str], None] = _no_timer
        super().__init__(*args, **kwargs)

    # demonstrations (demos/replay.py): their buffer and its share of each batch, given by the run at every
    # start and resume from its config and file; never saved with the model
    demo_replay = None
    demo_fraction = 0.5
    demo_bc = 0.0  # the Q-filtered cloning term's weight (`_cloning_loss`)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "timer", "demo_replay", "demo_fraction", "demo_bc"]

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        """With demos, every batch of this update (SB3's or ours) is drawn from both buffers (MixedReplay).
        No update before the agent's own buffer holds `learning_starts` transitions: SB3 counts steps instead,
        which is the same on a fresh run, but a run resumed without its buffer (a kept agent, a cut file) would
        update at once on its first few transitions, sampled over and over, and unlearn its task."""
        own = self.replay_buffer
        if own.size() < min(self.learning_starts // own.n_envs, own.buffer_size):  # rows of n_envs transitions
            return
        if self.demo_replay is None:
            return self._train(gradient_steps, batch_size)
        from wsa_robot.demos.replay import MixedReplay

        online = self.replay_buffer
        self.replay_buffer = MixedReplay(online, self.demo_replay, self.demo_fraction)
        try:
            self._train(gradient_steps, batch_size)
        finally:
            self.replay_buffer = online

    def _one_module(self) -> bool:
        return self.actor.features_extractor is self.critic.features_extractor and not self.use_sde

    def _train(self, gradient_steps: int, batch_size: int) -> None:
        if not self._one_module():
            if self.demo_bc:
                raise ValueError("sac.demo_bc needs the actor to read the critic's fusion module (no gSDE)")
            return super().train(gradient_steps, batch_size)
        self.policy.set_training_mode(True)
        optimizers = [self.actor.optimizer, self.critic.optimizer]
        if self.ent_coef_optimizer is not None:
            optimizers += [self.ent_coef_optimizer]
        self._update_learning_rate(optimizers)
        logs: dict[str, list[float]] = {"ent_coef": [], "actor_loss": [], "critic_loss": [], "ent_coef_loss": [],
                                        "bc_loss": [], "bc_kept": []}
        for gradient_step in range(gradient_steps):
            self._gradient_step(gradient_step, batch_size, logs)
        self.timer("end")
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        for key in ("ent_coef", "actor_loss", "critic_loss", "ent_coef_loss", "bc_loss", "bc_kept"):
            if logs[key]:
                self.logger.record(f"train/{key}", np.mean(logs[key]))

    def _gradient_step(self, gradient_step: int, batch_size: int, logs: dict[str, list[float]]) -> None:
        timer, actor, critic = self.timer, self.actor, self.critic
        timer("sample")
        data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)
        discounts = data.discounts if data.discounts is not None else self.gamma

        timer("critic.extract")  # the one pass with gradients into the fusion module
        features = critic.extract_features(data.observations, critic.features_extractor)
        timer("actor.forward")
        actions_pi, log_prob = actor_sample(actor, features.detach())
        log_prob = log_prob.reshape(-1, 1)

        timer("ent_coef")
        if self.ent_coef_optimizer is not None and self.log_ent_coef is not None:
            ent_coef = torch.exp(self.log_ent_coef.detach())
            ent_coef_loss = -(self.log_ent_coef * (log_prob + self.target_entropy).detach()).mean()
            logs["ent_coef_loss"].append(ent_coef_loss.item())
            self.ent_coef_optimizer.zero_grad()
            ent_coef_loss.backward()
            self.ent_coef_optimizer.step()
        else:
            ent_coef = self.ent_coef_tensor
        logs["ent_coef"].append(ent_coef.item())

        with torch.inference_mode():
            timer("actor.next")
            next_features = critic.extract_features(data.next_observations, critic.features_extractor)
            next_actions, next_log_prob = actor_sample(actor, next_features)
            timer("target")
            target = self.critic_target
            next_q = torch.cat(critic_heads(target, target.extract_features(data.next_observations,
                                                                           target.features_extractor),
                                            next_actions), dim=1)
            next_q, _ = torch.min(next_q, dim=1, keepdim=True)
            next_q = next_q - ent_coef * next_log_prob.reshape(-1, 1)
            target_q = data.rewards + (1 - data.dones) * discounts * next_q
        target_q = target_q.clone()  # out of inference mode, so autograd may save it for the loss

        timer("critic.forward")
        current_q = critic_heads(critic, features, data.actions)
        critic_loss = 0.5 * sum(F.mse_loss(q, target_q) for q in current_q)
        logs["critic_loss"].append(critic_loss.item())
        timer("critic.backward")
        critic.optimizer.zero_grad()
        critic_loss.backward()
        timer("critic.step")
        critic.optimizer.step()

        timer("actor.loss")
        if self.actor_features == "fresh":
            with torch.no_grad():
                scored = critic.extract_features(data.observations, critic.features_extractor)
        else:
            scored = features.detach()
        q_pi = torch.cat(actions_only_heads(critic, scored, actions_pi), dim=1)
        min_q_pi, _ = torch.min(q_pi, dim=1, keepdim=True)
        actor_loss = (ent_coef * log_prob - min_q_pi).mean()
        demo_rows = getattr(self.replay_buffer, "last_demo_rows", 0)
        if self.demo_bc and demo_rows:
            actor_loss = actor_loss + self._cloning_loss(scored, data.actions, actions_pi, min_q_pi, demo_rows, logs)
        logs["actor_loss"].append(actor_loss.item())
        timer("actor.backward")
        actor.optimizer.zero_grad()
        actor_loss.backward()
        timer("actor.step")
        actor.optimizer.step()

        timer("target.update")
        if gradient_step % self.target_update_interval == 0:
            self._polyak()

    def _cloning_loss(self, scored: torch.Tensor, actions: torch.Tensor, actions_pi: torch.Tensor,
                      min_q_pi: torch.Tensor, demo_rows: int, logs: dict[str, list[float]]) -> torch.Tensor:
        """Behaviour cloning on the batch's demo samples (its last `demo_rows` rows), kept only where the critic
        values the demo's action above the actor's (Nair et al. 2018's Q-filter), so cloning fades where the
        agent has learned better. Weighted by `demo_bc` times the batch's mean |Q| (TD3+BC's scale), so one
        weight serves any reward scale."""
        demo = slice(actions.shape[0] - demo_rows, None)
        with torch.no_grad():
            q_demo = torch.cat(critic_heads(self.critic, scored[demo], actions[demo]), dim=1)
            kept = (q_demo.min(dim=1, keepdim=True).values > min_q_pi[demo]).float()
            scale = min_q_pi.abs().mean()
        squared = ((actions_pi[demo] - actions[demo]) ** 2).sum(dim=1, keepdim=True)
        loss = (kept * squared).mean()
        logs["bc_loss"].append(loss.item())
        logs["bc_kept"].append(kept.mean().item())
        return self.demo_bc * scale * loss

    def _polyak(self) -> None:
        """SB3's polyak_update (target = (1 - tau) target + tau online, then the batch-norm statistics copied),
        as two foreach calls instead of a Python loop over every tensor."""
        with torch.no_grad():
            targets, online = list(self.critic_target.parameters()), list(self.critic.parameters())
            torch._foreach_mul_(targets, 1 - self.tau)
            torch._foreach_add_(targets, online, alpha=self.tau)
            for stat, stat_target in zip(self.batch_norm_stats, self.batch_norm_stats_target):
                stat_target.copy_(stat)
