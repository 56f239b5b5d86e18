"""SAC with ONE fusion module trained by the critic (as in DrQ and SAC-AE); the actor reads it detached.

stable-baselines3 offers two choices: separate extractors for actor and critic (two sets of WSA weights, the
actor's trained by its weak policy-gradient signal only) or a shared one trained by the actor loss only. The
critic's TD loss is the stronger signal for learning what to attend to, and one module gives one explanation.
"""

from __future__ import annotations

import torch
from stable_baselines3.common.policies import ContinuousCritic
from stable_baselines3.sac.policies import Actor, MultiInputPolicy
from torch import nn


class DetachedActor(Actor):
    """An actor whose features come from the critic's fusion module with no gradient into it."""

    def extract_features(self, obs, features_extractor):
        with torch.no_grad():
            return super().extract_features(obs, features_extractor)


class ActorLossCritic(ContinuousCritic):
    """A critic that, when it scores the actor's own actions for the actor's loss, passes gradients to those
    actions only. SB3's SAC computes that pass with gradients for every critic weight and the whole fusion
    module too, then throws them away (the critic's optimizer zeroes them before its next step), which was
    about a fifth of each update on 2 CPU cores. The actor's gradients are exactly the same."""

    def forward(self, obs, actions: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if not (torch.is_grad_enabled() and actions.requires_grad):
            return super().forward(obs, actions)  # the critic's own loss, or no gradient at all
        with torch.no_grad():
            features = self.extract_features(obs, self.features_extractor)
        return tuple(actions_only_heads(self, features, actions))


def critic_heads(critic: ContinuousCritic, features: torch.Tensor, actions: torch.Tensor) -> list[torch.Tensor]:
    """Every Q network of `critic` on already extracted features and `actions`."""
    q_input = torch.cat([features, actions], dim=1)
    return [q(q_input) for q in critic.q_networks]


def actions_only_heads(critic: ContinuousCritic, features: torch.Tensor,
                       actions: torch.Tensor) -> list[torch.Tensor]:
    """critic_heads with gradients to `actions` only: none for the critic's own weights, which the actor's loss
    would compute and throw away."""
    weights = [p for q in critic.q_networks for p in q.parameters() if p.requires_grad]
    for p in weights:  # autograd records at each op whether a weight needs a gradient; these do not
        p.requires_grad_(False)
    try:
        return critic_heads(critic, features, actions)
    finally:
        for p in weights:
            p.requires_grad_(True)


def layer_normed_mlp(q: nn.Sequential) -> nn.Sequential:
    """The same Q network with a LayerNorm after each hidden Linear (as in RLPD, DroQ and BRO): it keeps the
    critic's features bounded, so its targets grow slower when it updates often or from few successes."""
    layers: list[nn.Module] = []
    linears = [m for m in q if isinstance(m, nn.Linear)]
    for m in q:
        layers.append(m)
        if isinstance(m, nn.Linear) and m is not linears[-1]:
            layers.append(nn.LayerNorm(m.out_features))
    return nn.Sequential(*layers)


class CriticFusionSACPolicy(MultiInputPolicy):
    """`critic_layer_norm`: LayerNorm in the critic's hidden layers (config `sac.critic_layer_norm`)."""

    def __init__(self, *args, critic_layer_norm: bool = False, **kwargs) -> None:
        self.critic_layer_norm = critic_layer_norm  # read by make_critic, which the parent's __init__ calls
        super().__init__(*args, **kwargs)

    def _get_constructor_parameters(self) -> dict:
        return {**super()._get_constructor_parameters(), "critic_layer_norm": self.critic_layer_norm}

    def make_critic(self, features_extractor=None) -> ContinuousCritic:
        critic_kwargs = self._update_features_extractor(self.critic_kwargs, features_extractor)
        critic = ActorLossCritic(**critic_kwargs)
        if self.critic_layer_norm:
            for i, q in enumerate(critic.q_networks):
                critic.q_networks[i] = layer_normed_mlp(q)
                critic.add_module(f"qf{i}", critic.q_networks[i])
        return critic.to(self.device)

    def make_actor(self, features_extractor=None) -> Actor:
        actor_kwargs = self._update_features_extractor(self.actor_kwargs, features_extractor)
        return DetachedActor(**actor_kwargs).to(self.device)

    def _build(self, lr_schedule) -> None:
        self.critic = self.make_critic(features_extractor=None)
        self.actor = self.make_actor(features_extractor=self.critic.features_extractor)
        own = [p for name, p in self.actor.named_parameters() if not name.startswith("features_extractor.")]
        self.actor.optimizer = self.optimizer_class(own, lr=lr_schedule(1), **self.optimizer_kwargs)
        self.critic.optimizer = self.optimizer_class(self.critic.parameters(), lr=lr_schedule(1),
                                                     **self.optimizer_kwargs)
        self.critic_target = self.make_critic(features_extractor=None)
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.critic_target.set_training_mode(False)
