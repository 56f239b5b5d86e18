import numpy as np
import pytest
import torch

from wsa_robot.core.assets import add_to_manifest, read_manifest
from wsa_robot.encoders.autoencoder import ConvAutoencoder
from wsa_robot.encoders.bank import EncoderBank
from wsa_robot.encoders.registry import build_encoder, registry
from wsa_robot.core.errors import UserError
from wsa_robot.encoders.checkpoint import save_model


@pytest.fixture
def tiny_assets(tmp_path):
    """A tiny autoencoder saved in the real checkpoint format, with its manifest entry."""
    torch.manual_seed(0)
    model = ConvAutoencoder(latent_dim=8, channels=8, image_size=32)
    save_model(model, tmp_path / "ae_tiny.pt")
    add_to_manifest("ae_tiny", tmp_path / "ae_tiny.pt", {
        "encoder": "tiny", "skill": "autoencoder", "task": "Lift", "cameras": ["agentview"],
        "image_size": 32, "output_shape": [8]}, tmp_path)
    return tmp_path


def images(n, size=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_loader_reads_the_saved_format_and_is_frozen(tiny_assets):
    enc = build_encoder("tiny", tiny_assets)
    assert enc.output_shape == (8,) and enc.input_size == 32
    assert all(not p.requires_grad for p in enc.parameters()) and not enc.training
    enc.train()
    assert not enc.training  # a frozen encoder refuses train mode
    x = torch.from_numpy(images(4))
    with torch.inference_mode():
        a, b = enc(x), enc(x)
    assert a.shape == (4, 8) and a.dtype == torch.float32 and torch.equal(a, b)
    assert not a.requires_grad


def test_input_range_and_size_are_handled_inside(tiny_assets):
    enc = build_encoder("tiny", tiny_assets)
    with torch.inference_mode():
        big = enc(torch.from_numpy(images(2, size=64)))  # resized to 32 inside
        black = enc(torch.zeros(2, 32, 32, 3, dtype=torch.uint8))
        white = enc(torch.full((2, 32, 32, 3), 255, dtype=torch.uint8))
    assert big.shape == (2, 8) and not torch.allclose(black, white)


def test_sha256_mismatch_and_missing_file_are_user_errors(tiny_assets):
    path = tiny_assets / "ae_tiny.pt"
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(UserError, match="does not match its sha256"):
        build_encoder("tiny", tiny_assets)
    path.unlink()
    with pytest.raises(UserError, match="missing"):
        build_encoder("tiny", tiny_assets)
    assert registry(tiny_assets)["tiny"].weights_present is False


def test_unknown_encoder_lists_the_known_ones(tiny_assets):
    with pytest.raises(UserError, match="unknown encoder 'tiyn'.*tiny"):
        build_encoder("tiyn", tiny_assets)


def test_bank_embeds_every_camera_with_one_call_per_encoder(tiny_assets, monkeypatch):
    enc = build_encoder("tiny", tiny_assets)
    calls = []
    original = enc.encode
    monkeypatch.setattr(enc, "encode", lambda x: calls.append(x.shape) or original(x))
    bank = EncoderBank([enc], ["agentview", "hand"])
    obs = {"agentview": images(3, seed=1), "hand": images(3, seed=2)}
    out = bank.embed(obs)
    assert calls == [(6, 3, 32, 32)]  # both cameras in one batch, prepared (float, channel-first)
    assert set(out) == {"tiny@agentview", "tiny@hand"}
    assert out["tiny@hand"].dtype == np.float16 and out["tiny@hand"].shape == (3, 8)
    with torch.inference_mode():
        direct = enc(torch.from_numpy(obs["hand"])).numpy()
    np.testing.assert_allclose(out["tiny@hand"], direct, rtol=1e-2, atol=1e-2)


def test_shipped_lift_autoencoder_is_in_the_manifest():
    entry = read_manifest()["ae_lift"]
    assert entry["task"] == "Lift" and entry["cameras"] == ["agentview", "robot0_eye_in_hand"]
    assert entry["frames"] > 1000 and entry["val_mse"] < 0.01
    enc = build_encoder("ae")
    assert enc.output_shape == (128,)
