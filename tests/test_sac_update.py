"""SAC's update with each fusion pass once (agents/sac_update.py): SB3's update exactly with
actor_features=fresh, one pass fewer with reused, and fewer passes than SB3's in both."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import SAC
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import DummyVecEnv

from wsa_robot.agents.sac_policy import CriticFusionSACPolicy
from wsa_robot.agents.sac_update import OnePassSAC
from wsa_robot.fusion.attention import WSAExtractor


class TokenEnv(gym.Env):
    observation_space = spaces.Dict({"a": spaces.Box(-1, 1, (4,), np.float32), "b": spaces.Box(-1, 1, (3,), np.float32)})
    action_space = spaces.Box(-1, 1, (2,), np.float32)

    def reset(self, *, seed=None, options=None):
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), float(-np.abs(action).sum()), False, False, {}


def agent(actor_features="fresh", ent_coef="auto"):
    model = OnePassSAC(CriticFusionSACPolicy, DummyVecEnv([TokenEnv]), seed=0, batch_size=32, learning_starts=0,
                       ent_coef=ent_coef, actor_features=actor_features,
                       policy_kwargs={"net_arch": [16, 16], "features_extractor_class": WSAExtractor,
                                      "critic_layer_norm": True,
                                      "features_extractor_kwargs": {"token_keys": ["a", "b"], "context_key": "b",
                                                                    "dim": 8, "scorer_hidden": 4}})
    model.set_logger(configure(folder=None, format_strings=[]))
    g = np.random.default_rng(1)
    space = TokenEnv.observation_space
    for _ in range(100):  # the same transitions in every agent's buffer
        obs = {k: g.uniform(-1, 1, (1, *s.shape)).astype(np.float32) for k, s in space.spaces.items()}
        nxt = {k: g.uniform(-1, 1, (1, *s.shape)).astype(np.float32) for k, s in space.spaces.items()}
        model.replay_buffer.add(obs, nxt, g.uniform(-1, 1, (1, 2)).astype(np.float32), g.normal(size=1),
                                g.random(1) < 0.1, [{}])
    return model


def train(model, update, steps=6):
    np.random.seed(7)  # the replay buffer's batches
    torch.manual_seed(7)  # the actor's samples
    update(model, steps, 32)
    alpha = model.log_ent_coef if model.log_ent_coef is not None else model.ent_coef_tensor
    return {k: v.clone() for k, v in model.policy.state_dict().items()}, alpha.detach().clone()


@pytest.mark.parametrize("ent_coef", ["auto", 0.1])
def test_fresh_is_sb3s_update(ent_coef):
    ours, ours_alpha = train(agent("fresh", ent_coef), OnePassSAC.train)
    stock, stock_alpha = train(agent("fresh", ent_coef), SAC.train)
    untrained = agent("fresh", ent_coef).policy.state_dict()
    assert any(not torch.equal(untrained[k], stock[k]) for k in stock)  # the updates moved the weights
    for key in stock:
        torch.testing.assert_close(ours[key], stock[key], rtol=1e-6, atol=1e-7, msg=key)
    torch.testing.assert_close(ours_alpha, stock_alpha)


def test_reused_scores_the_actor_on_the_features_it_acted_on():
    fresh, _ = train(agent("fresh"), OnePassSAC.train)
    reused, _ = train(agent("reused"), OnePassSAC.train)
    actor = [k for k in fresh if k.startswith("actor.") and "features_extractor" not in k]
    critic = [k for k in fresh if k.startswith("critic.")]
    # the critic's loss does not read the actor's loss: its first step is the same; the actor's differs
    assert any(not torch.allclose(fresh[k], reused[k]) for k in actor)
    one_step = {name: train(agent(name), OnePassSAC.train, steps=1)[0] for name in ("fresh", "reused")}
    for k in critic:
        torch.testing.assert_close(one_step["fresh"][k], one_step["reused"][k], msg=k)


def passes(model, update) -> int:
    count = [0]
    hooks = [m.register_forward_hook(lambda *_: count.__setitem__(0, count[0] + 1))
             for m in (model.critic.features_extractor, model.critic_target.features_extractor)]
    update(model, 1, 32)
    for h in hooks:
        h.remove()
    return count[0]


def test_fusion_passes_per_update():
    assert passes(agent(), SAC.train) == 5
    assert passes(agent("fresh"), OnePassSAC.train) == 4
    assert passes(agent("reused"), OnePassSAC.train) == 3


def test_unknown_actor_features_is_refused():
    with pytest.raises(ValueError, match="actor_features"):
        agent("stale")
