"""The critic scores the actor's actions with gradients to the actions only, and otherwise as SB3's critic."""

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.policies import ContinuousCritic

from wsa_robot.agents.sac_policy import ActorLossCritic, CriticFusionSACPolicy
from wsa_robot.fusion.attention import WSAExtractor


def policy():
    torch.manual_seed(0)
    obs_space = spaces.Dict({"a": spaces.Box(-1, 1, (4,), np.float32), "b": spaces.Box(-1, 1, (3,), np.float32)})
    return CriticFusionSACPolicy(obs_space, spaces.Box(-1, 1, (2,), np.float32), lambda _: 1e-3, net_arch=[16, 16],
                                 features_extractor_class=WSAExtractor,
                                 features_extractor_kwargs={"token_keys": ["a", "b"], "context_key": "b", "dim": 8})


def batch():
    g = torch.Generator().manual_seed(1)
    return {"a": torch.randn(8, 4, generator=g), "b": torch.randn(8, 3, generator=g)}, torch.randn(8, 2, generator=g)


def test_actor_loss_pass_gives_sb3s_values_and_action_gradients_and_no_critic_gradients():
    critic = policy().critic
    assert isinstance(critic, ActorLossCritic)
    obs, actions = batch()
    ours_a, stock_a = actions.clone().requires_grad_(), actions.clone().requires_grad_()
    ours = torch.cat(critic(obs, ours_a), dim=1)
    ours.min(dim=1).values.mean().backward()
    assert all(p.grad is None for p in critic.parameters())  # nothing computed for the critic's weights
    stock = torch.cat(ContinuousCritic.forward(critic, obs, stock_a), dim=1)
    stock.min(dim=1).values.mean().backward()
    torch.testing.assert_close(ours, stock)
    torch.testing.assert_close(ours_a.grad, stock_a.grad)


def test_the_critics_own_loss_still_trains_the_fusion_module():
    critic = policy().critic
    obs, actions = batch()  # replay actions: no gradient wanted for them
    torch.cat(critic(obs, actions), dim=1).pow(2).mean().backward()
    assert all(p.grad is not None for p in critic.features_extractor.parameters())  # WSA: adapters and scorer
    assert all(p.grad is not None for q in critic.q_networks for p in q.parameters())
