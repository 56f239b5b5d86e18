"""R3M from its official checkpoint layout: tiny random weights saved as the real file, loaded by the public loader."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from wsa_robot.encoders.normalize import IMAGENET_MEAN, IMAGENET_STD
from wsa_robot.encoders.registry import build_encoder, registry
from wsa_robot.encoders.resnet import ResNet, resnet_num_parameters
from wsa_robot.core.errors import UserError


@pytest.fixture(autouse=True)
def no_outside_weights(monkeypatch, tmp_path):
    """Only the weights a test writes: no $WSA_WEIGHTS_DIR, and a home without ~/.r3m."""
    monkeypatch.delenv("WSA_WEIGHTS_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # test_zoo_hf sets it for the whole session
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def official_checkpoint(net: ResNet) -> dict:
    """What R3M's training code saves: a DataParallel state dict (module.*) with the language parts beside it."""
    state = {f"module.convnet.{k}": v for k, v in net.state_dict().items()}
    state["module.lang_enc.model.embeddings.word_embeddings.weight"] = torch.randn(10, 4)
    state["module.lang_rew.0.weight"] = torch.randn(4, 8)
    state["module.lang_rew.0.bias"] = torch.randn(4)
    return {"r3m": state, "optimizer": {"state": {}, "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.999)}]}}


@pytest.fixture(scope="module")
def resnet18():
    torch.manual_seed(0)
    net = ResNet(18)
    for m in net.modules():  # non-trivial BatchNorm statistics, so eval-mode BN is actually exercised
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return net.eval()


@pytest.fixture(scope="module")
def weights(tmp_path_factory, resnet18):
    folder = tmp_path_factory.mktemp("weights")
    torch.save(official_checkpoint(resnet18), folder / "r3m_18.pt")
    return folder


def images(n, size, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8))


def test_resnet_matches_torchvision_layout():
    # torchvision's resnet18/34/50 parameter counts minus their 1000-way fc layer
    assert [resnet_num_parameters(d) for d in (18, 34, 50)] == [11_176_512, 21_284_672, 23_508_032]
    keys = set(ResNet(50).state_dict())
    assert {"conv1.weight", "bn1.num_batches_tracked", "layer1.0.downsample.0.weight", "layer1.0.downsample.1.weight",
            "layer3.5.conv3.weight", "layer4.2.bn3.running_var"} <= keys
    assert not any(k.startswith("fc.") for k in keys)


def test_official_checkpoint_loads_drops_language_keys_and_matches_reference(weights, resnet18):
    enc = build_encoder("r3m18", weights_dir=weights, zoo_preprocess="stretch")  # 224 in: the image as it is
    assert enc.output_shape == (512,) and enc.input_size == 224
    assert not any("lang" in k for k in enc.state_dict())
    assert set(enc.convnet.state_dict()) == set(resnet18.state_dict())
    x = images(2, 224)
    with torch.inference_mode():
        out = enc(x)
        # R3M's own contract: floats in [0, 255], divided by 255, then ImageNet mean/std
        ref_in = (x.permute(0, 3, 1, 2).float() / 255.0 - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) \
            / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        ref = resnet18(ref_in)
    assert out.shape == (2, 512) and out.dtype == torch.float32
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)


def test_frozen_deterministic_and_resizes_any_input(weights):
    enc = build_encoder("r3m18", weights_dir=weights, zoo_preprocess="stretch")
    assert all(not p.requires_grad for p in enc.parameters()) and not enc.training
    enc.train()
    assert not enc.training
    x = images(1, 96, seed=1)
    a, b = enc(x), enc(x)  # no inference_mode here: nothing may require grad anyway
    assert torch.equal(a, b) and not a.requires_grad and a.shape == (1, 512)
    with torch.inference_mode():
        ref = enc.encode(F.interpolate(x.permute(0, 3, 1, 2).float() / 255, size=(224, 224), mode="bilinear"))
    torch.testing.assert_close(a, ref)


def test_env_var_and_official_folder_layout(tmp_path, monkeypatch, resnet18):
    folder = tmp_path / "env_weights" / "r3m_18"
    folder.mkdir(parents=True)
    torch.save(official_checkpoint(resnet18), folder / "model.pt")
    monkeypatch.setenv("WSA_WEIGHTS_DIR", str(folder.parent))
    entry = registry()["r3m18"]
    assert entry.weights_present and entry.weights == folder / "model.pt" and entry.params() == 11_176_512
    enc = entry.build()
    assert enc.output_shape == (512,)


def test_wrong_layouts_are_user_errors(tmp_path, resnet18):
    folder = tmp_path / "bad"
    folder.mkdir()
    torch.save({"r3m": resnet18.state_dict()}, folder / "r3m_18.pt")  # no module.convnet. prefix
    with pytest.raises(UserError, match="no 'module.convnet.\\*' weights"):
        build_encoder("r3m18", weights_dir=folder)
    torch.save(resnet18.state_dict(), folder / "r3m_18.pt")  # a bare state dict, no "r3m" key
    with pytest.raises(UserError, match="expected a dict with an 'r3m' state dict"):
        build_encoder("r3m18", weights_dir=folder)
    torch.save(official_checkpoint(resnet18), folder / "r3m_34.pt")  # a ResNet-18 where a 34 is expected
    with pytest.raises(UserError, match="does not fit a ResNet-34.*r3m_18"):
        build_encoder("r3m34", weights_dir=folder)
    (folder / "r3m_50.pt").write_bytes(b"not a torch file")
    with pytest.raises(UserError, match="could not read R3M checkpoint"):
        build_encoder("r3m50", weights_dir=folder)


def test_missing_weights_name_the_file_and_where_to_put_it(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert registry(weights_dir=empty)["r3m50"].weights_present is False
    with pytest.raises(UserError) as err:
        build_encoder("r3m50", weights_dir=empty)
    msg = str(err.value)
    assert "\n" not in msg and f"{empty}/r3m_50.pt" in msg and f"{empty}/r3m_50/model.pt" in msg
    with pytest.raises(UserError, match=r"weights fetch r3m18`.*/home/.cache/wsa-robot/weights/r3m_18/model.pt"):
        build_encoder("r3m18")  # no folder set: the default one
    with pytest.raises(UserError, match="does not exist"):
        build_encoder("r3m18", weights_dir=tmp_path / "typo")


def test_run_config_weights_dir_reaches_the_encoder_bank(weights):
    from wsa_robot.config import load_config
    from wsa_robot.run.pipeline import plan

    assert load_config().weights_dir is None
    cfg = load_config(["encoders=r3m18", f"weights_dir={weights}", "context=r3m18@agentview"])
    pipe = plan(cfg)
    assert pipe.bank.token_shapes["r3m18@agentview"] == (512,)
