import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.vec_env import DummyVecEnv

from wsa_robot.encoders.bank import EncoderBank
from wsa_robot.encoders.base import FrozenEncoder
from wsa_robot.encoders.vec_env import EmbeddingVecEnv
from wsa_robot.core.keys import MASK_KEY

from helpers import MeanColour


class Flat(gym.Env):
    """Camera 'cam' shows a flat grey whose level is the step count; episodes last 3 steps."""
    observation_space = spaces.Dict({"cam": spaces.Box(0, 255, (16, 16, 3), np.uint8),
                                     "proprio": spaces.Box(-1, 1, (2,), np.float32)})
    action_space = spaces.Box(-1, 1, (1,), np.float32)

    def _obs(self):
        return {"cam": np.full((16, 16, 3), 10 * self.t, np.uint8), "proprio": np.zeros(2, np.float32)}

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        return self._obs(), 1.0, False, self.t == 3, {}


def test_observations_become_float16_embeddings_and_a_mask():
    venv = EmbeddingVecEnv(DummyVecEnv([Flat, Flat]), EncoderBank([MeanColour()], ["cam"]), ["mean@cam", "proprio"])
    assert set(venv.observation_space.spaces) == {"mean@cam", "proprio", MASK_KEY}
    obs = venv.reset()
    assert obs["mean@cam"].dtype == np.float16 and obs["mean@cam"].shape == (2, 3)
    assert obs[MASK_KEY].shape == (2, 2) and (obs[MASK_KEY] == 1).all()
    assert venv.observation_space.contains({k: v[0] for k, v in obs.items()})
    assert "cam" not in obs


def test_terminal_observation_is_embedded_too():
    venv = EmbeddingVecEnv(DummyVecEnv([Flat]), EncoderBank([MeanColour()], ["cam"]), ["mean@cam"])
    venv.reset()
    for _ in range(3):
        obs, _, dones, infos = venv.step(np.zeros((1, 1), np.float32))
    assert dones[0]
    terminal = infos[0]["terminal_observation"]
    np.testing.assert_allclose(terminal["mean@cam"], np.full(3, 30 / 255), atol=1e-3)
    np.testing.assert_allclose(obs["mean@cam"][0], np.zeros(3), atol=1e-3)  # the new episode's first frame


def test_no_gradient_can_reach_a_bank_encoder():
    enc = torch.nn.Linear(3, 3)

    class Lin(FrozenEncoder):
        name, input_size, output_shape = "lin", 16, (3,)

        def __init__(self):
            super().__init__()
            self.fc = enc

        def encode(self, x):
            return self.fc(x.mean(dim=(2, 3)))

    bank = EncoderBank([Lin()], ["cam"], dtype=np.float32)
    out = torch.from_numpy(bank.embed({"cam": np.ones((1, 16, 16, 3), np.uint8)})["lin@cam"])
    assert not out.requires_grad and all(not p.requires_grad for p in enc.parameters())
