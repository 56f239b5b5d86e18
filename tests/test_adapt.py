"""Tokens added and removed while training (issue 7.1) and numerical faults (issue 7.5)."""

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import SAC
from stable_baselines3.common.vec_env import DummyVecEnv

from wsa_robot.agents.grow import grow_replay_buffer, mask_tokens, transplant
from wsa_robot.agents.guard import FiniteGuard, check_losses, check_parameters
from wsa_robot.agents.sac_policy import CriticFusionSACPolicy
from wsa_robot.cli.commands import main
from wsa_robot.config import dump_config, load_config, read_run_config
from wsa_robot.encoders.bank import EncoderBank
from wsa_robot.encoders.base import FrozenEncoder
from wsa_robot.encoders.vec_env import EmbeddingVecEnv
from wsa_robot.core.keys import MASK_KEY
from wsa_robot.core.errors import NonFiniteError
from wsa_robot.fusion import extractor_kwargs
from wsa_robot.run.replay_file import load_replay

from helpers import one_line_error

CAMS = ["left", "right"]


class MeanColour(FrozenEncoder):
    name, input_size, output_shape = "mean", 16, (3,)

    def encode(self, x):
        return x.mean(dim=(2, 3))


class MaxColour(FrozenEncoder):
    name, input_size, output_shape = "max", 16, (3,)

    def encode(self, x):
        return x.amax(dim=(2, 3))


class Noise(gym.Env):
    """Two cameras of random colour noise and a random proprio vector; `nan_reward_at` poisons one reward."""

    observation_space = spaces.Dict({c: spaces.Box(0, 255, (16, 16, 3), np.uint8) for c in CAMS}
                                    | {"proprio": spaces.Box(-1, 1, (4,), np.float32)})
    action_space = spaces.Box(-1, 1, (2,), np.float32)

    def __init__(self, seed=0, nan_reward_at=None):
        self.rng, self.t, self.nan_reward_at = np.random.default_rng(seed), 0, nan_reward_at

    def _obs(self):
        return {**{c: self.rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for c in CAMS},
                "proprio": self.rng.uniform(-1, 1, 4).astype(np.float32)}

    def reset(self, *, seed=None, options=None):
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        reward = float("nan") if self.t == self.nan_reward_at else float(action.sum())
        return self._obs(), reward, False, self.t % 10 == 0, {}


def tokens_of(encoders, proprio=True):
    return [f"{e.name}@{c}" for e in encoders for c in CAMS] + (["proprio"] if proprio else [])


def embedding_env(encoders, removed=(), n=4, idle=None, **env_kw):
    bank = EncoderBank(list(encoders), CAMS, dtype=np.float32)
    keys = tokens_of([*encoders, *(idle or [])])
    idle_shapes = {f"{e.name}@{c}": e.output_shape for e in (idle or []) for c in CAMS}
    venv = DummyVecEnv([lambda i=i: Noise(seed=i, **env_kw) for i in range(n)])
    return EmbeddingVecEnv(venv, bank, keys, removed=removed, idle_shapes=idle_shapes), keys


def sac(venv, keys, fusion="wsa", **kw):
    cls, kwargs = extractor_kwargs(fusion, keys, "mean@left", dim=16)
    return SAC(CriticFusionSACPolicy, venv, seed=0, learning_starts=20, batch_size=16, buffer_size=1000,
               policy_kwargs={"features_extractor_class": cls, "features_extractor_kwargs": kwargs,
                              "net_arch": [32, 32]}, **kw)


@pytest.mark.parametrize("fusion", ["wsa", "dpa"])
@pytest.mark.parametrize("removed", [["max@right"], ["max@left", "max@right", "proprio"]])
def test_a_removal_renormalises_the_remaining_weights_and_the_policy_acts_on_that_state(fusion, removed):
    full_env, keys = embedding_env([MeanColour(), MaxColour()])
    drop_max = "max@left" in removed  # every max token removed: the bank no longer runs that encoder
    cut_env, cut_keys = (embedding_env([MeanColour()], removed, idle=[MaxColour()]) if drop_max
                         else embedding_env([MeanColour(), MaxColour()], removed))
    assert cut_keys == keys and cut_env.observation_space == full_env.observation_space  # the model loads as is
    model = sac(full_env, keys, fusion)
    fusion_module, actor = model.actor.features_extractor, model.actor
    full, _ = model.policy.obs_to_tensor(full_env.reset())
    cut, _ = model.policy.obs_to_tensor(cut_env.reset())  # the same frames, as the running system masks them
    gone = [keys.index(k) for k in removed]
    keep = [i for i in range(len(keys)) if i not in gone]
    assert (cut[MASK_KEY][:, gone] == 0).all() and (cut[MASK_KEY][:, keep] == 1).all()
    assert all((cut[k] == 0).all() for k in removed)
    with torch.no_grad():
        _, old = fusion_module.attend(full)
        z = fusion_module.tokens(full)                                   # [B, K, d] of the intact observation
        h, new = fusion_module.attend(cut)
        assert (old[:, gone] > 0.01).all()  # the removed tokens mattered before
        renorm = old[:, keep] / old[:, keep].sum(1, keepdim=True)
        expected = (renorm.unsqueeze(-1) * z[:, keep]).sum(1)
        torch.testing.assert_close(new[:, keep], renorm, atol=1e-6, rtol=1e-5)
        assert (new[:, gone] == 0).all()
        torch.testing.assert_close(h, expected, atol=1e-5, rtol=1e-5)
        heads = torch.tanh(actor.mu(actor.latent_pi(expected))).numpy()  # action space is [-1, 1]
    actions, _ = model.predict({k: v.cpu().numpy() for k, v in cut.items()}, deterministic=True)
    np.testing.assert_allclose(actions, heads, atol=1e-5)


def test_growing_keeps_every_trained_weight_and_masks_stored_transitions_for_the_new_token():
    old_env, old_keys = embedding_env([MeanColour()], n=1)
    old = sac(old_env, old_keys)
    old.learn(60)
    new_env, new_keys = embedding_env([MeanColour(), MaxColour()], n=1)
    new = sac(new_env, new_keys)
    fresh = transplant(old, new)
    assert fresh and all(".adapters.max__" in k for k in fresh)  # only the new tokens' adapters start fresh
    for name, value in old.policy.state_dict().items():
        assert torch.equal(new.policy.state_dict()[name], value), name
    assert new.num_timesteps == 60 and torch.equal(new.log_ent_coef, old.log_ent_coef)
    grow_replay_buffer(old.replay_buffer, new.replay_buffer, old_keys, new_keys)
    buf = new.replay_buffer
    assert buf.pos == old.replay_buffer.pos == 60 and not buf.full
    for store in (buf.observations, buf.next_observations):
        mask = store[MASK_KEY][:60, 0]
        assert (mask[:, [new_keys.index(k) for k in new_keys if k.startswith("max")]] == 0).all()
        assert (mask[:, [new_keys.index(k) for k in old_keys]] == 1).all()
    np.testing.assert_array_equal(buf.observations["mean@left"], old.replay_buffer.observations["mean@left"])
    np.testing.assert_array_equal(buf.actions, old.replay_buffer.actions)
    # a stored transition reads the same to the grown agent: the new token is masked out
    sample = {k: torch.as_tensor(v[:60, 0]) for k, v in buf.observations.items()}
    old_sample = {k: torch.as_tensor(v[:60, 0]) for k, v in old.replay_buffer.observations.items()}
    with torch.no_grad():
        torch.testing.assert_close(new.critic.features_extractor(sample), old.critic.features_extractor(old_sample))
    new.learn(30, reset_num_timesteps=False)  # and it trains on
    assert new.num_timesteps == 90 and new.replay_buffer.pos == 90


def test_ppo_grows_by_rebuilding_its_policy():
    from stable_baselines3 import PPO

    def ppo(venv, keys):
        cls, kwargs = extractor_kwargs("wsa", keys, "mean@left", dim=16)
        return PPO("MultiInputPolicy", venv, n_steps=16, batch_size=16, n_epochs=1, seed=0,
                   policy_kwargs={"features_extractor_class": cls, "features_extractor_kwargs": kwargs,
                                  "net_arch": [32]})

    old_env, old_keys = embedding_env([MeanColour()], n=1)
    old = ppo(old_env, old_keys)
    old.learn(32)
    new_env, new_keys = embedding_env([MeanColour(), MaxColour()], n=1)
    new = ppo(new_env, new_keys)
    fresh = transplant(old, new)
    assert fresh and all(".adapters.max__" in k for k in fresh) and new.num_timesteps == 32
    assert all(torch.equal(new.policy.state_dict()[k], v) for k, v in old.policy.state_dict().items())
    new.learn(16, reset_num_timesteps=False)
    assert new.num_timesteps == 48


def test_a_nan_loss_is_caught_at_the_next_step():
    venv, keys = embedding_env([MeanColour()], n=1)
    model = sac(venv, keys)
    model.learn(25)
    with torch.no_grad():  # a weight gone NaN makes the next update's losses NaN
        model.critic.qf1[0].weight[0, 0] = float("nan")
    with pytest.raises(NonFiniteError, match=r"non-finite train/\w*loss \(nan\) at step 26"):
        model.learn(10, callback=FiniteGuard(params_every=0), reset_num_timesteps=False)


def test_mask_tokens_masks_a_removed_token_in_stored_transitions():
    venv, keys = embedding_env([MeanColour()], n=1)
    model = sac(venv, keys)
    model.learn(25)
    mask_tokens(model.replay_buffer, keys, ["mean@right"])
    m = model.replay_buffer.next_observations[MASK_KEY][:25, 0]
    assert (m[:, keys.index("mean@right")] == 0).all() and (m[:, keys.index("mean@left")] == 1).all()


def test_non_finite_reward_losses_and_parameters_are_caught():
    venv, keys = embedding_env([MeanColour()], n=1, nan_reward_at=7)
    model = sac(venv, keys)
    with pytest.raises(NonFiniteError, match="non-finite reward at step 7"):
        model.learn(30, callback=FiniteGuard())
    with pytest.raises(NonFiniteError, match=r"non-finite train/critic_loss \(nan\) at step 12"):
        check_losses({"train/critic_loss": float("nan"), "rollout/ep_rew_mean": float("nan")}, 12)
    check_losses({"train/explained_variance": float("nan"), "train/actor_loss": 0.5}, 12)  # not a loss
    with torch.no_grad():
        model.critic.qf0[0].weight[0, 0] = float("inf")
    with pytest.raises(NonFiniteError, match="non-finite parameter critic.qf0.0.weight"):
        check_parameters(model)


# ---- end to end through the CLI on Lift ------------------------------------------------------------------

# demos=null: the encoder added below reads depth, which demos do not hold (a refusal tested in test_demos)
FAST = ["sac.learning_starts=40", "sac.batch_size=16", "horizon=40", "fusion_dim=32", "sac.net_arch=32,32",
        "eval_every=0", "checkpoint_every=40", "sac.buffer_size=1000", "vec_env=dummy", "demos=null"]


def run_cli(capsys, argv):
    code = main(argv + ["--no-progress"])
    out = capsys.readouterr()
    return code, out.out, out.err


def replay(run):
    return load_replay(run / "checkpoints" / "replay_buffer.pkl")


def test_add_then_remove_an_encoder_while_training(in_tmp, capsys):
    run = Path("run")
    code, out, err = run_cli(capsys, ["train", "total_steps=80", f"run_dir={run}", *FAST])
    assert code == 0, err
    code, out, err = run_cli(capsys, ["train", "--resume", str(run), "--add-encoder", "sim_depth",
                                      "total_steps=120", "torch_threads=2"])  # a resume may take more cores
    assert code == 0, err
    assert "added sim_depth@agentview, sim_depth@robot0_eye_in_hand at step 80" in out
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    assert state["num_timesteps"] == 120
    saved = read_run_config(run / "config.yaml")
    assert saved.encoders == ["ae", "sim_depth"] and saved.total_steps == 120 and saved.torch_threads == 2
    buf = replay(run)
    keys = ["ae@agentview", "ae@robot0_eye_in_hand", "sim_depth@agentview", "sim_depth@robot0_eye_in_hand",
            "proprio"]
    assert buf.pos == 120 and buf.observations["sim_depth@agentview"].shape[-3:] == (1, 8, 8)
    mask = buf.observations[MASK_KEY][:, 0]
    assert (mask[:80, 2:4] == 0).all() and (mask[:80, [0, 1, 4]] == 1).all()  # kept, masked, not discarded
    assert (mask[80:120] == 1).all()

    code, out, err = run_cli(capsys, ["train", "--resume", str(run), "--remove-encoder", "ae@robot0_eye_in_hand",
                                      "total_steps=160"])
    assert code == 0, err
    events = json.loads((run / "events.json").read_text())
    assert [(e["step"], e["action"], e["tokens"]) for e in events] == [
        (80, "add", keys[2:4]), (120, "remove", ["ae@robot0_eye_in_hand"])]
    assert read_run_config(run / "config.yaml").removed_tokens == ["ae@robot0_eye_in_hand"]
    buf = replay(run)
    mask = buf.observations[MASK_KEY][:, 0]
    assert buf.pos == 160 and (mask[:160, 1] == 0).all() and (mask[120:160, [0, 2, 3, 4]] == 1).all()
    assert (buf.observations["ae@robot0_eye_in_hand"][120:160] == 0).all()
    assert json.loads((run / "checkpoints" / "state.json").read_text())["num_timesteps"] == 160

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    counts = {}
    for folder in {p.parent for p in run.glob("tb/*/events.out.tfevents.*")}:
        acc = EventAccumulator(str(folder)).Reload()
        if "events/token_count" in acc.Tags()["scalars"]:
            counts.update({e.step: e.value for e in acc.Scalars("events/token_count")})
    assert counts == {80: 5, 120: 4}

    capsys.readouterr()
    assert main(["eval", str(run), "--episodes", "1"]) == 0  # the changed run evaluates as it trains


@pytest.mark.parametrize("argv, match", [
    (["--add-encoder", "nope"], "unknown encoder 'nope'"),
    (["--remove-encoder", "ae@frontview"], "neither an encoder nor a token"),
    (["--remove-encoder", "ae"], "ae@agentview is the context token and cannot be removed"),
    (["--add-encoder", "ae"], "already in this run"),
    (["--add-encoder", "sim_depth", "fusion=wsa"], "only total_steps=N, torch_threads=N may change"),
    (["--add-encoder", "sim_depth", "--remove-encoder", "sim_depth"], "both added and removed"),
])
def test_token_edits_a_user_gets_wrong_are_one_line_and_exit_2(in_tmp, capsys, argv, match):
    run = Path("run")
    run.mkdir()
    config = dump_config(load_config())
    (run / "config.yaml").write_text(config)
    one_line_error(capsys, ["train", "--resume", str(run), *argv], match)
    assert not (run / "events.json").exists() and (run / "config.yaml").read_text() == config


def test_fixed_size_fusions_cannot_grow_and_edits_need_resume(in_tmp, capsys):
    run = Path("run")
    run.mkdir()
    (run / "config.yaml").write_text(dump_config(load_config(["fusion=fix"])))
    assert main(["train", "--resume", str(run), "--add-encoder", "sim_depth"]) == 2
    assert "fusion=fix concatenates one adapted vector per token and cannot take a new one" in capsys.readouterr().err
    assert main(["train", "--remove-encoder", "ae"]) == 2
    assert "add --resume RUN" in capsys.readouterr().err


def test_a_nan_embedding_stops_training_and_keeps_the_last_good_checkpoint(in_tmp, capsys, monkeypatch):
    run = Path("run")
    real_embed, calls, kept = EncoderBank.embed, [], {}

    def embed(self, obs):
        out = real_embed(self, obs)
        calls.append(1)
        if len(calls) == 70:  # step ~70: the checkpoint of step 40 is the last good one
            kept["zip"] = (run / "checkpoints" / "model.zip").read_bytes()
            kept["replay"] = (run / "checkpoints" / "replay_buffer.pkl").read_bytes()
            out["ae@agentview"][0, 3] = np.nan
        return out

    monkeypatch.setattr(EncoderBank, "embed", embed)
    code, out, err = run_cli(capsys, ["train", "total_steps=200", f"run_dir={run}", *FAST])
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: non-finite observation 'ae@agentview' at step ")
    assert lines[0].endswith(f"; the last good checkpoint (step 40) is kept in {run}/checkpoints")
    assert (run / "checkpoints" / "model.zip").read_bytes() == kept["zip"]  # byte for byte
    assert (run / "checkpoints" / "replay_buffer.pkl").read_bytes() == kept["replay"]
    assert json.loads((run / "checkpoints" / "state.json").read_text())["num_timesteps"] == 40
    assert not list(run.rglob(".*.tmp"))
