"""OverlapSAC: the same updates as SAC on the same data, run while the env computes the next step."""

import gymnasium as gym
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.vec_env import DummyVecEnv

from wsa_robot.agents.overlap import OverlapSAC, UpdateDuringStep

KW = dict(learning_starts=20, batch_size=16, policy_kwargs={"net_arch": [16]}, seed=3, verbose=0)


def pendulum_venv():
    return DummyVecEnv([lambda: gym.make("Pendulum-v1")])


def params(model):
    return torch.cat([p.detach().flatten() for p in model.policy.parameters()])


def test_unattached_it_is_plain_sac():
    a = SAC("MlpPolicy", pendulum_venv(), **KW).learn(60)
    b = OverlapSAC("MlpPolicy", pendulum_venv(), **KW).learn(60)
    assert a._n_updates == b._n_updates == 40
    torch.testing.assert_close(params(a), params(b))


class Spy(UpdateDuringStep):
    """Records, per env step, how many updates had run when the observation was awaited."""

    def __init__(self, venv):
        super().__init__(venv)
        self.sent = 0
        self.updates_at_wait: list[int] = []

    def step_async(self, actions):
        self.sent += 1
        super().step_async(actions)

    def step_wait(self):
        out = super().step_wait()
        self.updates_at_wait.append(self.model._n_updates)
        return out


def test_attached_updates_run_inside_the_env_step_and_none_is_lost():
    venv = Spy(pendulum_venv())
    model = OverlapSAC("MlpPolicy", venv, **KW)
    venv.attach(model)
    before = params(model).clone()
    model.learn(60)
    strict = SAC("MlpPolicy", pendulum_venv(), **KW).learn(60)
    assert model._n_updates == strict._n_updates == 40  # the last one is flushed at the end of learn()
    # the update asked for after step t runs during step t+1: at the wait of step 22, one update has run
    assert venv.updates_at_wait[20] == 0 and venv.updates_at_wait[21] == 1 and venv.updates_at_wait[-1] == 39
    assert not torch.allclose(before, params(model))  # the deferred updates did change the policy


def test_a_saved_model_forgets_its_env(tmp_path):
    venv = UpdateDuringStep(pendulum_venv())
    model = OverlapSAC("MlpPolicy", venv, **KW)
    venv.attach(model)
    model.learn(30)
    model.save(tmp_path / "m.zip")
    model.save_replay_buffer(tmp_path / "replay.pkl")
    loaded = OverlapSAC.load(tmp_path / "m.zip", env=pendulum_venv())
    loaded.load_replay_buffer(tmp_path / "replay.pkl")  # without it, no update before learning_starts new steps
    assert loaded.overlapped is False and loaded._deferred is None
    loaded.learn(25, reset_num_timesteps=False)
    assert loaded._n_updates == model._n_updates + 25
