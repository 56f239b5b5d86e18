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


def test_cloning_keeps_only_the_demo_rows_the_critic_prefers(monkeypatch):
    """The Q-filter: a demo row is cloned only where Q(s, demo action) > Q(s, actor's action); the online rows
    (the batch's first rows) never are. The critic is replaced by Q = -|a - best|."""
    from wsa_robot.agents import sac_update

    best = torch.tensor([0.5, -0.5])
    monkeypatch.setattr(sac_update, "critic_heads", lambda critic, f, a: [-(a - best).abs().sum(1, keepdim=True)] * 2)
    model = agent()
    model.demo_bc = 2.0
    actions = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.5, -0.5], [-1.0, 1.0]])  # rows 2-3 are the demos'
    actions_pi = torch.full((4, 2), 0.2, requires_grad=True)  # Q = -1.0 there; the demo rows: -0.0 and -3.0
    min_q_pi = -(actions_pi - best).abs().sum(1, keepdim=True).detach()
    logs = {"bc_loss": [], "bc_kept": []}
    loss = model._cloning_loss(torch.zeros(4, 3), actions, actions_pi, min_q_pi, 2, logs)
    loss.backward()
    assert logs["bc_kept"] == [0.5]  # row 2 (the best action) kept, row 3 (worse than the actor's) not
    moved = actions_pi.grad.abs().sum(1)
    assert moved[2] > 0 and moved[0] == moved[1] == moved[3] == 0
    squared = ((actions_pi[2] - actions[2]) ** 2).sum().item()
    assert loss.item() == pytest.approx(2.0 * 1.0 * squared / 2)  # weight x mean |Q| x mean over the demo rows


def test_cloning_pulls_the_actor_to_the_demos_actions():
    """With demos at half of each batch and sac.demo_bc, the actor's action on the demos' states moves to the
    demos' action; without it, it does not."""
    from stable_baselines3.common.buffers import DictReplayBuffer

    def demo_buffer():
        space, g = TokenEnv.observation_space, np.random.default_rng(2)
        buffer = DictReplayBuffer(50, space, TokenEnv.action_space, n_envs=1)
        for _ in range(50):
            obs = {k: g.uniform(-1, 1, (1, *s.shape)).astype(np.float32) for k, s in space.spaces.items()}
            buffer.add(obs, obs, np.array([[0.9, -0.9]], np.float32), np.ones(1), np.array([False]), [{}])
        return buffer

    gaps = {}
    for weight in (0.0, 5.0):
        model, demos = agent(), demo_buffer()
        model.demo_replay, model.demo_fraction, model.demo_bc = demos, 0.5, weight
        train(model, OnePassSAC.train, steps=200)
        obs = {k: torch.as_tensor(v[:, 0]) for k, v in demos.observations.items()}
        with torch.no_grad():
            acted = model.policy._predict(obs, deterministic=True)
        gaps[weight] = (acted - torch.tensor([0.9, -0.9])).abs().mean().item()
    assert gaps[5.0] < gaps[0.0] - 0.25, gaps  # 0.56 against 0.91 here


def test_a_resumed_agent_with_an_empty_replay_buffer_waits_for_learning_starts_transitions():
    """A resume without its replay buffer (a kept agent, a cut file) used to update at once from the first
    transitions, sampled over and over: a learned Lift agent went from 1.00 to 0.00 success in 200 steps."""
    model = OnePassSAC(CriticFusionSACPolicy, DummyVecEnv([TokenEnv]), seed=0, batch_size=32, learning_starts=50,
                       policy_kwargs={"net_arch": [16, 16], "features_extractor_class": WSAExtractor,
                                      "features_extractor_kwargs": {"token_keys": ["a", "b"], "context_key": "b",
                                                                    "dim": 8}})
    model.set_logger(configure(folder=None, format_strings=[]))
    model.num_timesteps = 30_000  # as a resumed run stands: far past learning_starts, its buffer empty
    before = {k: v.clone() for k, v in model.policy.state_dict().items()}
    model.learn(40, reset_num_timesteps=False)
    assert model.replay_buffer.size() == 40
    assert all(torch.equal(before[k], v) for k, v in model.policy.state_dict().items())  # no update yet
    model.learn(20, reset_num_timesteps=False)
    assert any(not torch.equal(before[k], v) for k, v in model.policy.state_dict().items())  # refilled: it learns
