"""Each algorithm and fusion family trains through the real Lift pipeline and the frozen encoders stay frozen."""

import numpy as np
import pytest
import torch

from wsa_robot.agents import build_agent, policy_extractor, rollout_weights
from wsa_robot.config import load_config
from wsa_robot.run.pipeline import make_vec_env, plan

SMALL = ["horizon=20", "fusion_dim=32", "demos=null"]  # agents built here directly: no run gives them demos


def learn(overrides, steps):
    cfg = load_config(SMALL + overrides)
    pipe = plan(cfg)
    venv = make_vec_env(pipe, cfg.n_envs, cfg.seed)
    try:
        model = build_agent(cfg, venv, pipe.token_keys, pipe.context_key, None)
        before = {k: v.clone() for k, v in policy_extractor(model).state_dict().items()}
        model.learn(steps)
    finally:
        venv.close()
    return model, pipe, before


def changed(model, before):
    after = policy_extractor(model).state_dict()
    return [k for k in before if not torch.equal(before[k], after[k])]


def test_ppo_with_wsa_trains_the_fusion_and_never_the_encoders():
    model, pipe, before = learn(["algo=ppo", "ppo.n_steps=32", "ppo.batch_size=16", "ppo.n_epochs=1",
                                 "ppo.net_arch=32"], 32)
    assert model.num_timesteps == 32
    moved = changed(model, before)
    assert any(k.startswith("scorer") for k in moved) and any(k.startswith("tokens.adapters") for k in moved)
    for enc in pipe.bank.encoders:  # frozen: no grad, eval mode, and not one of the optimizer's parameters
        assert not any(p.requires_grad for p in enc.parameters()) and not enc.training
        params = {id(p) for g in model.policy.optimizer.param_groups for p in g["params"]}
        assert not params & {id(p) for p in enc.parameters()}
    w = rollout_weights(model)  # of the last action the rollout took
    assert w.shape == (1, len(pipe.token_keys)) and np.allclose(w.sum(1), 1.0, atol=1e-5)


@pytest.mark.parametrize("fusion, encoders", [("e2e", "ae"), ("fix", "ae"), ("wsa", "ae,sim_depth")])
def test_sac_trains_with_pixel_concat_and_depth_tokens(fusion, encoders):
    model, pipe, before = learn([f"fusion={fusion}", f"encoders={encoders}", "sac.learning_starts=16",
                                 "sac.batch_size=8", "sac.net_arch=32,32", "cameras=agentview"], 24)
    assert model.num_timesteps == 24 and changed(model, before)
    space = model.observation_space
    if fusion == "e2e":  # raw pixels reach the agent, channel-first after SB3's transpose
        assert pipe.bank is None and space["agentview"].shape == (3, 84, 84)
        return
    assert "agentview" not in space.spaces and "ae@agentview" in space.spaces  # embeddings, never images
    if "sim_depth" in encoders:  # the depth render pooled to a grid, a spatial token with a conv adapter
        assert space["sim_depth@agentview"].shape == (1, 8, 8)
        depth = model.replay_buffer.observations["sim_depth@agentview"][:24].astype(np.float32)
        assert 0.3 < depth.min() and depth.max() <= 3.0 and depth.std() > 0.05


def test_every_algorithm_has_its_facts():
    import typing

    from wsa_robot.agents import ALGOS, POLICIES
    from wsa_robot.agents.algos import ALGO_FACTS, off_policy
    from wsa_robot.config import RunConfig

    accepted = set(typing.get_args(RunConfig.model_fields["algo"].annotation))
    assert set(ALGO_FACTS) == set(ALGOS) == set(POLICIES) == accepted
    assert off_policy("sac") and not off_policy("ppo")
