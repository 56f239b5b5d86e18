"""Atari pretraining skills: ST-DIM on Pong frames (tiny budgets, a temporary assets folder)."""

from pathlib import Path

import numpy as np
import pytest
import torch

from wsa_robot.encoders.stdim import STDIM

ROOT = Path(__file__).resolve().parent.parent


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_stdim_reads_the_newest_frame_untransposed_and_scores_every_position():
    model = STDIM(image_size=84, in_channels=4)
    x = torch.rand(5, 4, 84, 84)
    z, local = model.features(x)
    assert z.shape == (5, 512) and local.shape == (5, 81, 64)  # 9x9 positions of the second conv layer
    older = x.clone()
    older[:, :3] = torch.rand(5, 3, 84, 84)
    assert torch.equal(model.encode(older), z)  # only the newest frame of the stack is read
    gl, ll = model.scores(x, x.flip(0))
    assert gl.shape == ll.shape == (81, 5, 5)
    loss = model.loss(x, x.flip(0))
    loss.backward()
    assert torch.isfinite(loss) and model.global_local.weight.grad.abs().sum() > 0
    assert model.local_local.weight.grad.abs().sum() > 0


def test_stdim_on_pong_trains_and_its_frozen_encoder_drives_a_run(tmp_home):
    from wsa_robot.config import load_config
    from wsa_robot.encoders.registry import build_encoder
    from wsa_robot.run.pipeline import make_vec_env, plan
    from wsa_robot.pretrain import pretrain

    entry = pretrain("atari/Pong", "stdim", frames_per_camera=96, steps=3, batch_size=16, episode_length=24,
                     out_dir=tmp_home / "assets", cache=tmp_home / "frames")
    assert entry["encoder"] == "stdim_atari_pong" and entry["in_channels"] == 4 and entry["output_shape"] == [512]
    assert entry["metric"] == "val_accuracy" and 0.0 <= entry["val_accuracy"] <= 1.0
    enc = build_encoder("stdim_atari_pong")
    assert not any(p.requires_grad for p in enc.parameters())
    with torch.inference_mode():
        assert enc(torch.zeros(2, 84, 84, 4, dtype=torch.uint8)).shape == (2, 512)

    # the encoder as a WSA token of an Atari run: the pipeline builds it and the env gives it its screen
    cfg = load_config(["task=atari/Pong", "fusion=wsa", "encoders=stdim_atari_pong",
                       "context=stdim_atari_pong@screen", "n_envs=1", "device=cpu"])
    venv = make_vec_env(plan(cfg, "cpu"), 1, 0)
    try:
        obs = venv.reset()
        tokens = [v for k, v in obs.items() if "stdim_atari_pong" in k]
        assert tokens and tokens[0].shape[-1] == 512 and np.isfinite(tokens[0]).all()
    finally:
        venv.close()


def test_vos_warps_frame_t_minus_1_along_mask_weighted_translations():
    from wsa_robot.encoders.vos import MOTION_GAIN, VOS, VOSEncoder

    model = VOS(n_masks=3, image_size=84, in_channels=4)
    x = torch.rand(2, 4, 84, 84)
    older = x.clone()
    older[:, :2] = 0.0
    assert torch.equal(model.masks(x), model.masks(older))  # only the newest two frames are read
    with torch.no_grad():  # no motion: the rebuilt frame is frame t-1 itself
        model.motion.weight.zero_()
        model.motion.bias.zero_()
        warped, masks = model.rebuild(x[:, 2:])
        assert torch.allclose(warped, x[:, 2:3], atol=1e-5) and masks.shape == (2, 3, 84, 84)
        # a camera translation of one pixel to the right: frame t(x) = frame t-1(x + 1 pixel)
        step = 2.0 / 83
        model.motion.bias[-2] = torch.atanh(torch.tensor(step / model.config["max_shift"])) / MOTION_GAIN
        warped, _ = model.rebuild(x[:, 2:])
        assert torch.allclose(warped[..., :-1], x[:, 2:3, :, 1:], atol=1e-4)
    tokens = VOSEncoder(model).freeze()(torch.randint(0, 256, (2, 84, 84, 4), dtype=torch.uint8))
    assert tokens.shape == (2, 3, 11, 11) and 0.0 <= tokens.min() and tokens.max() <= 1.0


def test_vos_on_pong_trains_and_registers_its_masks(tmp_home):
    from wsa_robot.encoders.registry import build_encoder
    from wsa_robot.pretrain import pretrain

    entry = pretrain("atari/Pong", "vos", frames_per_camera=96, steps=3, batch_size=8, episode_length=24,
                     out_dir=tmp_home / "assets", cache=tmp_home / "frames")
    assert entry["encoder"] == "vos_atari_pong" and entry["output_shape"] == [20, 11, 11]
    assert entry["metric"] == "val_motion_explained" and np.isfinite(entry["val_motion_explained"])
    enc = build_encoder("vos_atari_pong")
    with torch.inference_mode():
        assert enc(torch.zeros(2, 84, 84, 4, dtype=torch.uint8)).shape == (2, 20, 11, 11)


@pytest.mark.parametrize("game", ["pong", "breakout", "mspacman"])
def test_shipped_atari_skills_load_verified_and_give_their_manifest_shapes(game):
    from wsa_robot.core.assets import read_manifest
    from wsa_robot.encoders.registry import build_encoder, registry

    entries, manifest = registry(), read_manifest()
    names = [f"{s}_atari_{game}" for s in ("ae", "stdim", "kp", "vos")] + \
        [f"kp_atari_{game}_features", f"kp_atari_{game}_maps"]
    screen = torch.randint(0, 256, (2, 84, 84, 4), dtype=torch.uint8)
    for name in names:
        enc = build_encoder(name)  # checks the weights' sha256 against the manifest
        with torch.inference_mode():
            out = enc(screen)
        assert out.shape == (2, *entries[name].output_shape) and torch.isfinite(out).all(), name
    assert manifest[f"stdim_atari_{game}"]["val_accuracy"] > 10 / 32  # chance: 1 in 32 frames
    assert manifest[f"ae_atari_{game}"]["steps"] == 4000


def test_atari_default_is_wsa_over_four_skills_with_the_autoencoder_as_context_only():
    from wsa_robot.config import load_config
    from wsa_robot.run.pipeline import make_vec_env, plan

    cfg = load_config(["task=atari/Pong", "n_envs=2", "device=cpu"])
    assert cfg.fusion == "wsa" and cfg.algo == "ppo" and cfg.context == "ae_atari_pong@screen"
    # PPO's updates collapse the unscaled additive scorer onto one skill (results/README.md, Atari); Lift keeps additive
    assert cfg.wsa_scorer == "scaled" and load_config(["task=Lift"]).wsa_scorer == "additive"
    pipe = plan(cfg, "cpu")
    assert pipe.token_keys == ["stdim_atari_pong@screen", "kp_atari_pong_features@screen",
                               "kp_atari_pong_maps@screen", "vos_atari_pong@screen"]
    venv = make_vec_env(pipe, 2, 0, training=True)
    try:
        obs = venv.reset()
        assert obs["ae_atari_pong@screen"].shape == (2, 128)  # the context is observed, never weighed
        assert obs["token_mask"].shape == (2, 4)
        assert obs["kp_atari_pong_maps@screen"].shape == (2, 8, 11, 11)
    finally:
        venv.close()


def test_frames_can_mix_in_episodes_played_by_a_trained_run(tmp_home):
    from wsa_robot.config import load_config
    from wsa_robot.pretrain import pretrain
    from wsa_robot.pretrain.collect import collect_frames
    from wsa_robot.run.run_dir import RunDir
    from wsa_robot.envs.tasks import load_task
    from wsa_robot.run.pipeline import plan
    from wsa_robot.run.train import train

    cfg = load_config(["task=atari/Pong", "fusion=e2e", "n_envs=2", "device=cpu", "total_steps=128",
                       "ppo.n_steps=64", "ppo.batch_size=64", "ppo.n_epochs=1", "eval_every=0"])
    run = train(RunDir(tmp_home / "agent"), plan(cfg), progress=False)
    task = load_task("atari/Pong")
    played = collect_frames(task, ["screen"], 64, episode_length=16, cache=tmp_home / "frames",
                            agent_run=run.path, agent_fraction=1.0)
    random = collect_frames(task, ["screen"], 64, episode_length=16, cache=tmp_home / "frames")
    assert played.images.shape == random.images.shape == (64, 84, 84, 4)
    assert not np.array_equal(played.images, random.images)  # other actions, other frames
    assert len(list((tmp_home / "frames").glob("*agent*"))) == 1  # cached apart from the random frames
    entry = pretrain("atari/Pong", "autoencoder", frames_per_camera=64, steps=2, batch_size=8, episode_length=16,
                     out_dir=tmp_home / "assets", cache=tmp_home / "frames", agent_run=run.path, agent_fraction=1.0)
    assert "100% of episodes played by run" in entry["provenance"]
    # a skill pretrained on a run's play gets its own name: the shipped one it would replace is kept
    assert entry["encoder"] == "ae_atari_pong_agent" and (tmp_home / "assets" / "ae_atari_pong_agent.pt").exists()
    assert not (tmp_home / "assets" / "ae_atari_pong.pt").exists()
    from wsa_robot.encoders.registry import registry

    assert "ae_atari_pong_agent" in registry(tmp_home / "assets")
