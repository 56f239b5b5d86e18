"""Camera faults: spec parsing, the seeded FaultWrapper, token masking of invalid cameras, WSA under a mask,
the config keys, and `wsa-robot eval --fault` on a tiny Lift run."""

import json

import gymnasium as gym
import numpy as np
import pytest
import torch
import yaml
from gymnasium import spaces
from stable_baselines3.common.vec_env import DummyVecEnv

from wsa_robot.cli.commands import main
from wsa_robot.config import dump_config, load_config, read_run_config
from wsa_robot.encoders.bank import EncoderBank
from wsa_robot.encoders.vec_env import EmbeddingVecEnv
from wsa_robot.core.keys import MASK_KEY
from wsa_robot.envs.faults import Fault, FaultWrapper, parse_fault, parse_faults
from wsa_robot.core.errors import UserError
from wsa_robot.fusion.attention import WSAExtractor
from wsa_robot.eval.conditions import evaluate_run
from wsa_robot.run.pipeline import make_vec_env, plan
from wsa_robot.run.replay_file import load_replay
from wsa_robot.run.run_dir import RunDir

from helpers import MeanColour

CAMS = ["cam", "other"]


class TwoCams(gym.Env):
    """'cam' shows grey level 10 * t + 5 (its depth is t), 'other' a constant 100; episodes last 5 steps."""
    observation_space = spaces.Dict({"cam": spaces.Box(0, 255, (16, 16, 3), np.uint8),
                                     "cam_depth": spaces.Box(0, np.inf, (16, 16, 1), np.float32),
                                     "other": spaces.Box(0, 255, (16, 16, 3), np.uint8),
                                     "proprio": spaces.Box(-1, 1, (2,), np.float32)})
    action_space = spaces.Box(-1, 1, (1,), np.float32)

    def __init__(self, length=5, grey=None):
        self.length, self.grey = length, grey

    def _obs(self):
        level = self.grey if self.grey is not None else 10 * (self.t % 25) + 5
        return {"cam": np.full((16, 16, 3), level, np.uint8),
                "cam_depth": np.full((16, 16, 1), float(self.t + 1), np.float32),
                "other": np.full((16, 16, 3), 100, np.uint8), "proprio": np.zeros(2, np.float32)}

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        return self._obs(), 1.0, False, self.t == self.length, {}


def rollout(env, steps):
    obs = [env.reset()[0]]
    for _ in range(steps):
        o, _, term, trunc, _ = env.step(np.zeros(1, np.float32))
        obs.append(o)
        if term or trunc:
            obs.append(env.reset()[0])
    return obs


# --- parsing ---------------------------------------------------------------------------------------------

def test_good_specs_parse_with_defaults():
    assert parse_fault("camera_dropout:agentview:p=0.5") == Fault("camera_dropout", "agentview", p=0.5)
    assert parse_fault("camera_dropout:agentview") == Fault("camera_dropout", "agentview", p=1.0)
    assert parse_fault("freeze:all", CAMS) == Fault("freeze", "all", p=1.0)
    noise = parse_fault("noise:robot0_eye_in_hand:sigma=12.5")
    assert noise.sigma == 12.5 and str(noise) == "noise:robot0_eye_in_hand:sigma=12.5"
    assert parse_faults([str(noise)]) == [noise]  # str() is a spec that parses back to the same fault


@pytest.mark.parametrize("spec, match", [
    ("bogus", "malformed fault 'bogus'"),
    ("blur:cam:p=1", "unknown fault kind 'blur'"),
    ("camera_dropout:frontview:p=1", "camera 'frontview' is not one of this run's cameras"),
    ("camera_dropout:cam:q=1", "bad parameter 'q=1'"),
    ("camera_dropout:cam:p", "bad parameter 'p'"),
    ("freeze:cam:p=2", "not a probability"),
    ("noise:cam:sigma=lots", "is not a number"),
    ("noise:cam:sigma=-1", "negative"),
    ("noise:cam", "needs sigma"),
])
def test_bad_specs_are_one_line_user_errors(spec, match):
    with pytest.raises(UserError, match=match) as e:
        parse_fault(spec, CAMS)
    assert len(str(e.value).splitlines()) == 1


def test_config_keys_parse_with_semicolons_or_a_yaml_list_and_old_runs_load(tmp_path):
    cfg = load_config(["faults=camera_dropout:agentview:p=0.5;noise:all:sigma=4"])
    assert cfg.faults == ["camera_dropout:agentview:p=0.5", "noise:all:sigma=4"] and cfg.mask_faults
    assert load_config(["faults=[freeze:agentview, noise:all:sigma=4]", "mask_faults=false"]).faults == \
        ["freeze:agentview", "noise:all:sigma=4"]
    assert load_config(["faults="]).faults == []
    old = yaml.safe_load(dump_config(load_config()))
    del old["faults"], old["mask_faults"]  # a run saved before these keys existed
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(old))
    cfg = read_run_config(tmp_path / "config.yaml")
    assert cfg.faults == [] and cfg.mask_faults is True
    with pytest.raises(UserError, match="camera 'frontview'"):  # checked against the run's cameras at plan()
        plan(load_config(["faults=freeze:frontview"]))


def test_train_with_a_bad_fault_is_one_line_and_exit_2(in_tmp, capsys):
    assert main(["train", "faults=camera_dropout:agentview:p=1.5"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a probability" in err, err
    assert not (in_tmp / "runs").exists()  # no run dir is made for a run that cannot start


# --- the wrapper ----------------------------------------------------------------------------------------

def test_dropout_blanks_frames_and_depth_at_rate_p_and_marks_them_invalid():
    env = FaultWrapper(TwoCams(), ["camera_dropout:cam:p=0.3"], seed=1)
    assert {"cam_valid", "other_valid"} <= set(env.observation_space.spaces)
    obs = rollout(env, 3000)
    assert all(env.observation_space.contains(o) for o in obs[:20])
    valid = np.array([o["cam_valid"][0] for o in obs])
    assert set(np.unique(valid)) == {0.0, 1.0} and abs((valid == 0).mean() - 0.3) < 0.03
    for o in obs:
        dropped = o["cam_valid"][0] == 0
        assert (o["cam"].max() == 0) == dropped and (o["cam_depth"].max() == 0) == dropped
        assert o["other_valid"][0] == 1 and (o["other"] == 100).all()  # the other camera is untouched


def test_freeze_repeats_the_previous_frame_and_depth():
    frozen = rollout(FaultWrapper(TwoCams(length=50), ["freeze:cam"], seed=0), 10)  # p=1: the first frame
    assert frozen[0]["cam_valid"][0] == 1 and all(o["cam_valid"][0] == 0 for o in frozen[1:])
    assert all((o["cam"] == 5).all() and (o["cam_depth"] == 1).all() for o in frozen)
    obs = rollout(FaultWrapper(TwoCams(length=1000), ["freeze:cam:p=0.5"], seed=0), 400)
    stale = [i for i in range(1, len(obs)) if obs[i]["cam_valid"][0] == 0]
    assert 150 < len(stale) < 250
    for i in range(1, len(obs)):
        if i in stale:
            np.testing.assert_array_equal(obs[i]["cam"], obs[i - 1]["cam"])
            np.testing.assert_array_equal(obs[i]["cam_depth"], obs[i - 1]["cam_depth"])
        else:  # a fresh frame: the env's own level for this step
            assert (obs[i]["cam"] == 10 * (i % 25) + 5).all() and (obs[i]["cam_depth"] == i + 1).all()


def test_noise_has_the_right_std_and_stays_valid():
    obs = rollout(FaultWrapper(TwoCams(grey=128), ["noise:all:sigma=10"], seed=3), 50)
    diff = np.stack([o["cam"] for o in obs]).astype(float) - 128
    assert abs(diff.std() - 10) < 0.3 and abs(diff.mean()) < 0.3
    assert all(o["cam_valid"][0] == 1 and o["other_valid"][0] == 1 for o in obs)
    assert np.stack([o["other"] for o in obs]).std() > 5  # `all` reaches every camera
    assert all((o["cam_depth"] == o["cam_depth"].flat[0]).all() for o in obs)  # depth is not pixel-noised


def test_faults_are_reproducible_from_the_seed():
    def frames(seed):
        obs = rollout(FaultWrapper(TwoCams(), ["camera_dropout:cam:p=0.5", "noise:other:sigma=5"], seed=seed), 60)
        return np.stack([o["cam_valid"] for o in obs]), np.stack([o["other"] for o in obs])

    a, b, c = frames(7), frames(7), frames(8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[1], c[1])
    env = FaultWrapper(TwoCams(), ["camera_dropout:cam:p=0.5"], seed=0)  # reset(seed) reseeds the faults
    def episode():
        return [env.reset(seed=11)[0]["cam_valid"][0]] + [env.step(np.zeros(1))[0]["cam_valid"][0] for _ in range(4)]

    assert episode() == episode()


def test_without_report_valid_no_valid_keys_are_added():
    env = FaultWrapper(TwoCams(), ["camera_dropout:cam:p=1"], seed=0, report_valid=False)
    obs, _ = env.reset()
    assert not any(k.endswith("_valid") for k in list(obs) + list(env.observation_space.spaces))
    assert (obs["cam"] == 0).all()


# --- masking ----------------------------------------------------------------------------------------------

def embedding_env(faults, mask_invalid=True):
    bank = EncoderBank([MeanColour()], CAMS)
    venv = DummyVecEnv([lambda i=i: FaultWrapper(TwoCams(), faults, seed=i) for i in range(2)])
    return EmbeddingVecEnv(venv, bank, ["mean@cam", "mean@other", "proprio"], mask_invalid=mask_invalid)


def test_embedding_env_masks_exactly_the_tokens_of_the_invalid_camera():
    venv = embedding_env(["camera_dropout:cam:p=1"])
    assert not any(k.endswith("_valid") for k in venv.observation_space.spaces)
    obs = venv.reset()
    assert not any(k.endswith("_valid") for k in obs)
    np.testing.assert_array_equal(obs[MASK_KEY], [[0, 1, 1], [0, 1, 1]])
    for _ in range(5):  # through an episode end: the terminal observation is masked too
        obs, _, dones, infos = venv.step(np.zeros((2, 1), np.float32))
        np.testing.assert_array_equal(obs[MASK_KEY], [[0, 1, 1], [0, 1, 1]])
    assert dones.all() and (infos[0]["terminal_observation"][MASK_KEY] == [0, 1, 1]).all()
    assert venv.observation_space.contains({k: v[0] for k, v in obs.items()})
    garbage = embedding_env(["camera_dropout:cam:p=1"], mask_invalid=False).reset()  # mask_faults=false
    assert (garbage[MASK_KEY] == 1).all() and (garbage["mean@cam"] == 0).all()


def test_embedding_env_masks_per_env_and_step():
    venv = embedding_env(["camera_dropout:other:p=0.5"])
    masks = [venv.reset()[MASK_KEY]] + [venv.step(np.zeros((2, 1), np.float32))[0][MASK_KEY] for _ in range(40)]
    masks = np.concatenate(masks)
    assert (masks[:, [0, 2]] == 1).all() and 0.3 < masks[:, 1].mean() < 0.7


def test_wsa_with_a_masked_token_is_the_renormalized_sum_of_the_others():
    torch.manual_seed(0)
    keys = ["ae@cam", "ae@other", "proprio"]
    sp = spaces.Dict({**{k: spaces.Box(-np.inf, np.inf, (6,), np.float32) for k in keys},
                      "ctx": spaces.Box(-np.inf, np.inf, (3,), np.float32),
                      MASK_KEY: spaces.Box(0, 1, (3,), np.float32)})
    ext = WSAExtractor(sp, keys, "ctx", dim=8)
    obs = {k: torch.randn(4, *s.shape) for k, s in sp.spaces.items()}
    obs[MASK_KEY] = torch.tensor([[0.0, 1, 1]] * 4)
    with torch.no_grad():
        out, w = ext.attend(obs)
        z = ext.tokens(obs)
        s = ext.scores(ext.context(obs["ctx"]), z)
    keep = s[:, 1:].exp() / s[:, 1:].exp().sum(1, keepdim=True)  # softmax over the remaining tokens only
    torch.testing.assert_close(out, (keep.unsqueeze(-1) * z[:, 1:]).sum(1))
    assert (w[:, 0] == 0).all()
    torch.testing.assert_close(w[:, 1:], keep)


# --- end to end on robosuite Lift -------------------------------------------------------------------------

def test_e2e_sees_the_corrupted_pixels_and_no_valid_keys():
    cfg = load_config(["fusion=e2e", "horizon=5", "faults=camera_dropout:agentview:p=1"])
    venv = make_vec_env(plan(cfg), 1, seed=0)
    try:
        obs = venv.reset()
        assert not any(k.endswith("_valid") for k in list(obs) + list(venv.observation_space.spaces))
        assert (obs["agentview"] == 0).all() and obs["robot0_eye_in_hand"].max() > 0
    finally:
        venv.close()


FAST = ["total_steps=100", "horizon=20", "sac.learning_starts=80", "sac.batch_size=16", "sac.buffer_size=500",
        "fusion_dim=32", "sac.net_arch=32,32", "checkpoint_every=1000", "eval_every=0"]  # a periodic eval: +20 s


@pytest.fixture(scope="module")
def lift_run(tmp_path_factory):
    """A tiny Lift run trained with a wrist camera that sends a stale frame half of the time."""
    run = tmp_path_factory.mktemp("faults") / "run"
    assert main(["train", f"run_dir={run}", "faults=freeze:robot0_eye_in_hand:p=0.5", *FAST, "--no-progress"]) == 0
    return run


def test_training_with_faults_masks_the_stale_camera_in_the_replay_buffer(lift_run):
    cfg = read_run_config(lift_run / "config.yaml")
    assert cfg.faults == ["freeze:robot0_eye_in_hand:p=0.5"] and cfg.mask_faults
    buffer = load_replay(lift_run / "checkpoints" / "replay_buffer.pkl")
    assert buffer.size() == 100 and not any(k.endswith("_valid") for k in buffer.observations)
    mask = buffer.observations[MASK_KEY][:100, 0]  # tokens: ae@agentview, ae@robot0_eye_in_hand, proprio
    assert (mask[:, [0, 2]] == 1).all() and 0.3 < mask[:, 1].mean() < 0.8  # first frames of episodes are fresh


@pytest.mark.parametrize("spec, match", [("bogus", "malformed fault 'bogus'"),
                                         ("camera_dropout:frontview", "camera 'frontview'")])
def test_eval_with_a_bad_fault_is_one_line_and_exit_2(lift_run, capsys, spec, match):
    capsys.readouterr()
    code = main(["eval", str(lift_run), "--fault", spec])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error:") and match in err, err


def test_eval_with_a_dropped_camera_gives_its_tokens_zero_weight(lift_run, capsys):
    capsys.readouterr()
    assert main(["eval", str(lift_run), "-n", "1", "--fault", "camera_dropout:agentview:p=1"]) == 0
    out = capsys.readouterr().out
    assert "camera_dropout:agentview:p=1" in out and "without faults" in out
    result = json.loads((lift_run / "eval_summary.json").read_text())
    assert result["faults"] == ["camera_dropout:agentview:p=1"]
    weights, clean = result["summary"]["weights"], result["without_faults"]["weights"]
    assert weights["ae@agentview"] == 0.0 and abs(sum(weights.values()) - 1) < 1e-3
    assert clean["ae@agentview"] > 0.0 and result["without_faults"]["faults"] == []
    assert result["summary"]["mean_length"] == result["without_faults"]["mean_length"] == 20


def test_evaluate_run_without_masking_feeds_the_black_frames_through(lift_run):
    result = evaluate_run(RunDir(lift_run), 1, faults=["camera_dropout:agentview:p=1"], mask_faults=False)
    assert result["faults"] == ["camera_dropout:agentview:p=1"] and result["mask_faults"] is False
    assert result["episodes"] == 1 and result["mean_length"] == 20 and 0.0 <= result["success_rate"] <= 1.0
    assert result["weights"]["ae@agentview"] > 0.0  # unmasked: the black frames' tokens still get weight
