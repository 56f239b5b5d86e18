"""The token weights logged in training and drawn in eval are those of the forward that chose the action."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.vec_env import DummyVecEnv

from wsa_robot.agents.acting import WeightsPPOPolicy, act, policy_extractor
from wsa_robot.run.callbacks import WeightsCallback
from wsa_robot.agents.overlap import OverlapSAC, UpdateDuringStep
from wsa_robot.agents.sac_policy import CriticFusionSACPolicy
from wsa_robot.fusion import extractor_kwargs

TOKENS = ["t0", "t1", "t2"]


class Tokens(gym.Env):
    """Three random vector tokens and a random context, far apart enough that every step's weights differ."""

    observation_space = spaces.Dict({k: spaces.Box(-3, 3, (4,), np.float32) for k in [*TOKENS, "ctx"]})
    action_space = spaces.Box(-1, 1, (2,), np.float32)

    def __init__(self, seed: int = 0):
        self.rng, self.t = np.random.default_rng(seed), 0

    def _obs(self):
        return {k: self.rng.normal(0, 1.5, 4).astype(np.float32) for k in self.observation_space.spaces}

    def reset(self, *, seed=None, options=None):
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        return self._obs(), float(action.sum()), False, self.t % 16 == 0, {}


def weights_of(model, obs) -> np.ndarray:
    """The weights the policy's features give for `obs`, with the model's parameters as they are now."""
    tensor, _ = model.policy.obs_to_tensor(obs)
    with torch.no_grad():
        return policy_extractor(model).attend(tensor)[1].numpy()


class ActedOn(UpdateDuringStep):
    """At step_async the policy has chosen the actions and no update has run since: it records the weights
    for the observation acted on, with the parameters that chose them. With `overlap` the deferred update
    then runs inside step_wait, as in training."""

    def __init__(self, venv, overlap: bool):
        super().__init__(venv)
        self.overlap, self.learner, self.expected = overlap, None, []

    def watch(self, model):
        self.learner = model
        if self.overlap:
            self.attach(model)

    def step_async(self, actions):
        # SAC's warm-up acts at random: no forward, no weights
        acted = self.learner.num_timesteps >= getattr(self.learner, "learning_starts", 0)
        self.expected.append(weights_of(self.learner, self.learner._last_obs).mean(0) if acted else None)
        super().step_async(actions)


class Logged(BaseCallback):
    """After WeightsCallback: what it logged at this step, and the weights recomputed now (after the update)."""

    def __init__(self, weights: WeightsCallback):
        super().__init__()
        self.weights, self.logged, self.recomputed = weights, [], []

    def _on_step(self):
        if self.weights.recent is not None:  # what TensorBoard gets is what the progress line shows
            tb = [self.logger.name_to_value[f"wsa/weight/{k}"] for k in TOKENS]
            np.testing.assert_array_equal(np.float32(tb), self.weights.recent)
        self.logged.append(self.weights.recent)
        self.recomputed.append(weights_of(self.model, self.model._last_obs).mean(0))
        self.weights.recent = None
        return True


def agent(algo: str, venv):
    cls, kwargs = extractor_kwargs("wsa", TOKENS, "ctx", dim=16)
    policy_kwargs = {"features_extractor_class": cls, "features_extractor_kwargs": kwargs, "net_arch": [16]}
    if algo == "sac":
        return OverlapSAC(CriticFusionSACPolicy, venv, seed=0, learning_starts=8, batch_size=16,
                          buffer_size=500, learning_rate=3e-3, policy_kwargs=policy_kwargs)
    return PPO(WeightsPPOPolicy, venv, seed=0, n_steps=16, batch_size=16, n_epochs=1, learning_rate=3e-3,
               policy_kwargs=policy_kwargs)


@pytest.mark.parametrize("algo, overlap", [("sac", True), ("sac", False), ("ppo", False)])
def test_the_weights_logged_are_the_acting_policys_for_the_observation_it_acted_on(algo, overlap):
    venv = ActedOn(DummyVecEnv([lambda i=i: Tokens(seed=i) for i in range(2)]), overlap)
    model = agent(algo, venv)
    venv.watch(model)
    weights = WeightsCallback(TOKENS, every=1)
    logged = Logged(weights)
    model.learn(48, callback=CallbackList([weights, logged]))
    steps = len(venv.expected)
    assert steps == len(logged.logged) >= 24 and model._n_updates > 0
    acting = [i for i, e in enumerate(venv.expected) if e is not None]
    assert len(acting) >= 16 and all(logged.logged[i] is None for i in range(steps) if i not in acting)
    for i in acting:
        np.testing.assert_allclose(logged.logged[i], venv.expected[i], rtol=0, atol=1e-6, err_msg=f"step {i}")
    moved = [i for i in acting if not np.allclose(logged.recomputed[i], venv.expected[i], rtol=0, atol=1e-6)]
    if overlap:  # the update inside the env step changed the weights before the callbacks ran: they would lie
        assert moved
    else:
        assert not moved


def test_act_returns_the_weights_of_the_forward_that_chose_the_action():
    venv = DummyVecEnv([lambda i=i: Tokens(seed=i) for i in range(3)])
    model = agent("sac", venv)
    obs = venv.reset()
    action, w = act(model, obs, deterministic=True)
    expected_action, _ = model.predict(obs, deterministic=True)
    np.testing.assert_array_equal(action, expected_action)
    np.testing.assert_array_equal(w, weights_of(model, obs))
    assert w.shape == (3, len(TOKENS)) and np.allclose(w.sum(1), 1.0, atol=1e-6)


def test_a_ppo_run_saved_with_sb3s_policy_loads_into_the_one_that_records_weights(tmp_path):
    from wsa_robot.agents import load_agent
    from wsa_robot.config import load_config

    venv = DummyVecEnv([lambda: Tokens()])
    cls, kwargs = extractor_kwargs("wsa", TOKENS, "ctx", dim=16)
    old = PPO("MultiInputPolicy", venv, seed=0, n_steps=16, batch_size=16,
              policy_kwargs={"features_extractor_class": cls, "features_extractor_kwargs": kwargs})
    old.save(tmp_path / "model.zip")
    loaded = load_agent(load_config(["algo=ppo", "device=cpu"]), tmp_path / "model.zip", venv)
    assert type(loaded.policy) is WeightsPPOPolicy
    obs = venv.reset()
    np.testing.assert_array_equal(act(loaded, obs)[0], old.predict(obs, deterministic=True)[0])
    loaded.learn(16)
    assert loaded.policy.rollout_weights.shape == (1, len(TOKENS))
