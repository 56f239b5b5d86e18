"""DINO, DINOv2 and depth encoders from tiny random models in the real `save_pretrained` format.

Nothing is downloaded: HF_HUB_OFFLINE is set, every folder is written by the test itself, and the Hugging Face
cache is pointed at an empty folder unless a test fills it.
"""

import json
import os
import subprocess
import sys

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers / huggingface_hub read it at import

import numpy as np
import pytest
import torch

import wsa_robot.encoders.weights as weights_mod
from wsa_robot.encoders.normalize import IMAGENET_MEAN, IMAGENET_STD
from wsa_robot.encoders.registry import build_encoder, registry
from wsa_robot.core.errors import UserError

transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()
transformers.logging.disable_progress_bar()

VIT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2)
FOLDERS = {"dino": "dino-vits16", "dinov2": "dinov2-small", "da": "Depth-Anything-V2-Small-hf",
           "dpt": "dpt-hybrid-midas"}


def tiny_dino_v1():
    # with the pooler, as ViTModel saves by default; the encoder must ignore it
    return transformers.ViTModel(transformers.ViTConfig(**VIT, intermediate_size=64, image_size=224, patch_size=16))


def tiny_dinov2_config(**extra):
    return transformers.Dinov2Config(**VIT, mlp_ratio=2, image_size=518, patch_size=14, **extra)


def tiny_depth_anything():
    backbone = tiny_dinov2_config(out_features=["stage1", "stage2"], reshape_hidden_states=False)
    cfg = transformers.DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=32,
                                           neck_hidden_sizes=[8, 16], reassemble_factors=[2, 1],
                                           fusion_hidden_size=16, head_hidden_size=8)
    return transformers.DepthAnythingForDepthEstimation(cfg)


def tiny_dpt_hybrid():
    """Built like Intel/dpt-hybrid-midas: a BiT (ResNet) stem feeding a ViT, 'project' readout, 384 input."""
    bit = dict(model_type="bit", layer_type="bottleneck", depths=[1, 1, 1], hidden_sizes=[16, 32, 64],
               embedding_size=16, num_groups=8, out_features=["stage1", "stage2", "stage3"], global_padding="SAME",
               embedding_dynamic_padding=True)
    cfg = transformers.DPTConfig(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64,
                                 is_hybrid=True, image_size=384, patch_size=16, backbone_out_indices=[0, 1, 2, 3],
                                 neck_hidden_sizes=[16, 32, 32, 32], reassemble_factors=[1, 1, 1, 0.5],
                                 fusion_hidden_size=16, backbone_featmap_shape=[1, 64, 24, 24],
                                 use_auxiliary_head=False, backbone_config=bit)
    return transformers.DPTForDepthEstimation(cfg)


def visible_depth(model):
    """Random init leaves the depth map near 0 after the head's final ReLU; spread it so min-max is meaningful."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1].bias.fill_(1.0)
    return model


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A weights folder holding one save_pretrained folder per architecture, named after the hub id."""
    root = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    for key, make in (("dino", tiny_dino_v1), ("dinov2", lambda: transformers.Dinov2Model(tiny_dinov2_config())),
                      ("da", lambda: visible_depth(tiny_depth_anything())),
                      ("dpt", lambda: visible_depth(tiny_dpt_hybrid()))):
        make().save_pretrained(root / FOLDERS[key])
    return root


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("WSA_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the default weights folder: empty
    monkeypatch.setattr(weights_mod, "hf_cache_dir", lambda: tmp_path / "hf_cache")


def images(n, size, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8))


def normalized(x, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """The reference preprocessing: uint8 HWC -> [0, 1] CHW -> (x - mean) / std (images already at model size)."""
    x = x.permute(0, 3, 1, 2).float() / 255.0
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def test_dino_v1_cls_mean_and_grid_match_a_manual_forward(weights):
    ref_model = transformers.ViTModel.from_pretrained(weights / FOLDERS["dino"], add_pooling_layer=False).eval()
    x = images(2, 224)
    with torch.inference_mode():
        tokens = ref_model(pixel_values=normalized(x)).last_hidden_state  # [2, 1 + 14 * 14, 32]
        out = {name: build_encoder(name, weights_dir=weights, zoo_preprocess="stretch")(x)
               for name in ("dino_s16", "dino_s16_mean", "dino_s16_grid")}
    assert out["dino_s16"].shape == (2, 32) and out["dino_s16"].dtype == torch.float32
    torch.testing.assert_close(out["dino_s16"], tokens[:, 0], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(out["dino_s16_mean"], tokens[:, 1:].mean(1), rtol=1e-4, atol=1e-4)
    grid = out["dino_s16_grid"]
    assert grid.shape == (2, 32, 14, 14)
    torch.testing.assert_close(grid[:, :, 2, 5], tokens[:, 1 + 2 * 14 + 5], rtol=1e-4, atol=1e-4)  # row-major


def test_dinov2_grid_is_16x16_at_224_and_matches_a_manual_forward(weights):
    ref_model = transformers.Dinov2Model.from_pretrained(weights / FOLDERS["dinov2"]).eval()
    x = images(1, 224, seed=3)
    with torch.inference_mode():
        tokens = ref_model(pixel_values=normalized(x)).last_hidden_state  # [1, 1 + 256, 32]
        # stretch: a 224 image goes in as it is (the authors' resize + crop is tested in test_zoo_preprocess.py)
        cls = build_encoder("dinov2_s", weights_dir=weights, zoo_preprocess="stretch")(x)
        mean = build_encoder("dinov2_s_mean", weights_dir=weights, zoo_preprocess="stretch")(x)
        grid = build_encoder("dinov2_s_grid", weights_dir=weights, zoo_preprocess="stretch")(x)
    assert cls.shape == (1, 32) and mean.shape == (1, 32) and grid.shape == (1, 32, 16, 16)
    torch.testing.assert_close(cls, tokens[:, 0], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(mean, tokens[:, 1:].mean(1), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(grid.flatten(2).transpose(1, 2), tokens[:, 1:], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name, folder, size, stats", [
    ("depth_anything_s", FOLDERS["da"], 224, (IMAGENET_MEAN, IMAGENET_STD)),
    ("dpt_hybrid", FOLDERS["dpt"], 384, ((0.5,) * 3, (0.5,) * 3)),  # DPT-hybrid's own preprocessing
])
def test_depth_models_give_a_pooled_map_in_0_1(weights, name, folder, size, stats):
    ref_model = transformers.AutoModelForDepthEstimation.from_pretrained(weights / folder).eval()
    x = images(1, size, seed=4)
    enc = build_encoder(name, weights_dir=weights, zoo_preprocess="stretch")
    assert enc.output_shape == (1, 8, 8) and enc.input_size == size
    with torch.inference_mode():
        out = enc(x)
        depth = ref_model(pixel_values=normalized(x, *stats)).predicted_depth.unsqueeze(1)
    ref = torch.nn.functional.adaptive_avg_pool2d((depth - depth.min()) / (depth.max() - depth.min()), 8)
    assert out.shape == (1, 1, 8, 8) and out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 1
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)


def test_frozen_deterministic_and_any_input_size(weights):
    enc = build_encoder("dinov2_s_mean", weights_dir=weights)
    assert all(not p.requires_grad for p in enc.parameters()) and not enc.training
    enc.train()
    assert not enc.training
    x = images(2, 84, seed=5)  # camera-sized input, resized to 224 inside
    a, b = enc(x), enc(x)  # outside inference_mode: still nothing requires grad
    assert a.shape == (2, 32) and not a.requires_grad and torch.equal(a, b)
    black = enc(torch.zeros(1, 84, 84, 3, dtype=torch.uint8))
    white = enc(torch.full((1, 84, 84, 3), 255, dtype=torch.uint8))
    assert not torch.allclose(black, white)


def test_registry_reads_shapes_and_params_from_disk_without_building(weights):
    entries = registry(weights_dir=weights)
    assert entries["dinov2_s_grid"].output_shape == (32, 16, 16)  # from the folder's config.json
    assert entries["dino_s16"].output_shape == (32,) and entries["dino_b16"].output_shape == (768,)  # nominal
    assert entries["dino_s16"].weights_present and not entries["dino_b16"].weights_present
    assert entries["dpt_hybrid"].weights == weights / FOLDERS["dpt"]
    for name in ("dino_s16", "dinov2_s", "depth_anything_s", "dpt_hybrid"):
        assert entries[name].params() == entries[name].build().num_parameters(), name
    assert entries["dinov2_b"].params() is None


def test_preprocessor_config_sets_mean_and_std(weights, tmp_path):
    folder = tmp_path / FOLDERS["dinov2"]
    transformers.Dinov2Model.from_pretrained(weights / FOLDERS["dinov2"]).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps({"image_mean": [0.5] * 3, "image_std": [0.25] * 3}))
    enc = build_encoder("dinov2_s", weights_dir=tmp_path)
    assert enc.normalize.mean.flatten().tolist() == [0.5] * 3 and enc.normalize.std.flatten().tolist() == [0.25] * 3


def test_env_var_then_hf_cache_by_hub_id(weights, tmp_path, monkeypatch):
    monkeypatch.setenv("WSA_WEIGHTS_DIR", str(weights))
    assert build_encoder("dino_s16").output_shape == (32,)
    monkeypatch.delenv("WSA_WEIGHTS_DIR")
    # the hub cache's layout: models--org--name/{refs/main, snapshots/<commit>/...}
    repo = tmp_path / "hf_cache" / "models--facebook--dinov2-small"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.parent.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    transformers.Dinov2Model.from_pretrained(weights / FOLDERS["dinov2"]).save_pretrained(snapshot)
    entry = registry()["dinov2_s"]
    assert entry.weights_present and entry.weights == snapshot
    assert entry.build().output_shape == (32,)


def test_missing_weights_offline_say_what_and_where(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not registry(weights_dir=empty)["dinov2_s"].weights_present
    with pytest.raises(UserError) as err:
        build_encoder("dinov2_s", weights_dir=empty)
    msg = str(err.value)
    assert "\n" not in msg and "facebook/dinov2-small" in msg and f"{empty}/dinov2-small" in msg
    assert "HF_HUB_OFFLINE" in msg and "Hugging Face cache" in msg
    with pytest.raises(UserError, match=r"hub id Intel/dpt-hybrid-midas .* in /.*/wsa-robot/weights/dpt-hybrid-midas/"):
        build_encoder("dpt_hybrid")  # no folder set: the default one


def test_broken_folders_are_user_errors(weights, tmp_path):
    folder = tmp_path / FOLDERS["dinov2"]
    folder.mkdir()
    (folder / "config.json").write_text((weights / FOLDERS["dinov2"] / "config.json").read_text())
    with pytest.raises(UserError, match="has no weights file"):
        build_encoder("dinov2_s", weights_dir=tmp_path)
    (folder / "config.json").unlink()
    tiny_dino_v1().save_pretrained(folder)  # a DINO v1 (ViT) model where DINOv2 is expected
    with pytest.raises(UserError, match="holds a 'vit' model, expected 'dinov2'"):
        build_encoder("dinov2_s", weights_dir=tmp_path)


def test_listing_is_cheap_and_names_every_zoo_encoder():
    code = ("import sys\nfrom wsa_robot.cli.listing import encoders_table\nfrom rich.console import Console\n"
            "c = Console(width=200, record=True)\nc.print(encoders_table())\n"
            "assert 'transformers' not in sys.modules, 'listing imported transformers'\nprint('OK')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name in ("r3m18", "r3m50", "dino_b16_grid", "dinov2_s_mean", "depth_anything_s", "dpt_hybrid", "ae"):
        assert name in proc.stdout
    assert "OK" in proc.stdout
