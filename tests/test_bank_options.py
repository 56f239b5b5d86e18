import numpy as np
import pytest
import torch
import yaml

from wsa_robot.config import dump_config, load_config, read_run_config
from wsa_robot.encoders.autoencoder import AutoencoderEncoder, ConvAutoencoder
from wsa_robot.encoders.bank import EncoderBank
from wsa_robot.core.errors import UserError

CAMERAS = ["agentview", "hand"]


def tiny_encoder() -> AutoencoderEncoder:
    torch.manual_seed(0)
    return AutoencoderEncoder(ConvAutoencoder(latent_dim=16, channels=16, image_size=32, out_channels=0), "tiny")


def observation(n: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {c: rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8) for c in CAMERAS}


def test_bf16_on_cpu_is_close_to_fp32_and_still_stored_as_float16():
    enc, obs = tiny_encoder(), observation()
    ref = EncoderBank([enc], CAMERAS).embed(obs)
    low = EncoderBank([enc], CAMERAS, precision="bf16").embed(obs)
    assert set(low) == set(ref)
    for key, want in ref.items():
        got = low[key]
        assert got.dtype == np.float16 and got.shape == want.shape == (3, 16)
        want32, got32 = want.astype(np.float32), got.astype(np.float32)
        assert np.linalg.norm(got32 - want32) <= 0.03 * np.linalg.norm(want32)
    assert not all(np.array_equal(low[k], ref[k]) for k in ref)  # autocast did run in bf16


def test_bank_rejects_unknown_precision_and_fp16_on_cpu():
    with pytest.raises(UserError, match="bad value for encoder_precision"):
        EncoderBank([tiny_encoder()], CAMERAS, precision="fp8")
    with pytest.raises(UserError, match="fp16 needs a CUDA device"):
        EncoderBank([tiny_encoder()], CAMERAS, precision="fp16")


@pytest.mark.parametrize("amx", [True, False])
def test_auto_precision_is_bf16_only_where_measured_to_pay(monkeypatch, amx):
    """auto: bf16 autocast on a CPU with AMX in torch; fp32 on any other CPU, on a GPU and in onnxruntime
    (which runs fp32 only, so auto must not make it refuse)."""
    from wsa_robot.encoders import bank

    monkeypatch.setattr(bank, "native_bf16_cpu", lambda: amx)
    enc, obs = tiny_encoder(), observation()
    auto = EncoderBank([enc], CAMERAS, precision="auto")
    assert auto.precision == ("bf16" if amx else "fp32")
    same = EncoderBank([enc], CAMERAS, precision=auto.precision).embed(obs)
    other = EncoderBank([enc], CAMERAS, precision="fp32" if amx else "bf16").embed(obs)
    got = auto.embed(obs)
    assert all(np.array_equal(got[k], same[k]) for k in got)  # it computes in the precision it resolved to
    assert not all(np.array_equal(got[k], other[k]) for k in got)
    assert bank.resolve_precision("auto", "cuda") == "fp32"
    assert bank.resolve_precision("auto", "cpu", runtime="onnx") == "fp32"
    assert bank.resolve_precision("fp32", "cpu") == "fp32" and bank.resolve_precision("bf16", "cpu") == "bf16"


def test_atari_tasks_default_to_auto_precision_and_robot_tasks_to_fp32():
    for game in ("Pong", "Breakout", "MsPacman"):
        assert load_config([f"task=atari/{game}"]).encoder_precision == "auto"
    assert load_config(["task=Lift"]).encoder_precision == "fp32"  # its learning results were measured in fp32
    assert load_config(["task=atari/Pong", "encoder_precision=fp32"]).encoder_precision == "fp32"
    with pytest.raises(UserError, match="auto"):
        EncoderBank([tiny_encoder()], CAMERAS, precision="fp8")  # the message names every choice


def test_config_keys_default_validate_and_round_trip(tmp_path):
    cfg = load_config()
    assert cfg.encoder_precision == "fp32" and cfg.encoder_compile is False
    cfg = load_config(["encoder_precision=bf16", "encoder_compile=true"])
    assert cfg.encoder_precision == "bf16" and cfg.encoder_compile is True
    with pytest.raises(UserError, match="bad value for encoder_precision"):
        load_config(["encoder_precision=fp8"])
    # a run directory written before these keys existed still reads, with the defaults
    data = yaml.safe_load(dump_config(cfg))
    del data["encoder_precision"], data["encoder_compile"]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(data))
    old = read_run_config(tmp_path / "config.yaml")
    assert old.encoder_precision == "fp32" and old.encoder_compile is False


def test_encoder_runtime_key_defaults_to_torch_and_rejects_bad_values_and_combinations():
    assert load_config().encoder_runtime == "torch"
    assert load_config(["encoder_runtime=onnx"]).encoder_runtime == "onnx"
    with pytest.raises(UserError, match="bad value for encoder_runtime"):
        load_config(["encoder_runtime=tvm"])
    with pytest.raises(UserError, match="bad value for encoder_runtime"):
        EncoderBank([tiny_encoder()], CAMERAS, runtime="tvm")
    with pytest.raises(UserError, match="encoder_runtime=onnx runs fp32"):
        EncoderBank([tiny_encoder()], CAMERAS, precision="bf16", runtime="onnx")


@pytest.mark.parametrize("missing", ["onnxruntime", "onnx"])
def test_encoder_runtime_onnx_without_its_packages_is_one_user_error(monkeypatch, missing):
    import sys

    monkeypatch.setitem(sys.modules, missing, None)  # import <missing> now raises ImportError
    with pytest.raises(UserError, match="needs onnx and onnxruntime: pip install onnx onnxruntime"):
        EncoderBank([tiny_encoder()], CAMERAS, runtime="onnx")


def test_train_with_a_bad_encoder_runtime_exits_2_with_one_line(capsys):
    from wsa_robot.cli.commands import main

    assert main(["train", "--task", "Lift", "encoder_runtime=tvm"]) == 2
    err = capsys.readouterr().err.strip()
    assert "encoder_runtime" in err and len(err.splitlines()) == 1
