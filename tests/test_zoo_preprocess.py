"""Each zoo encoder's input, for a fixed image, against its authors' preprocessing written out independently:
PIL resize + centre crop + ToTensor + normalise (R3M's README, DINO's evaluation transform), and transformers'
own image processors (DINOv2's BitImageProcessor through AutoImageProcessor, Depth Anything / DPT's
DPTImageProcessor) with the settings of the published preprocessor_config.json files. PIL works in 8 bits, so
agreement is within ~1 grey level; the old whole-frame stretch is shown to differ by far more."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from wsa_robot.encoders.normalize import IMAGENET_MEAN, IMAGENET_STD
from wsa_robot.encoders.registry import build_encoder
from wsa_robot.encoders.resnet import ResNet

transformers = pytest.importorskip("transformers")

GREY = 1 / 255  # one grey level in [0, 1]


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("WSA_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def fixed_image(h: int, w: int) -> np.ndarray:
    """Gradients, a texture, a sharp red block and noise: every interpolation difference shows on it."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 / w, y * 255 / h, 128 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0)], -1)
    img[h // 4: h // 2, w // 3: w // 2] = [250, 20, 30]
    img += np.random.default_rng(0).normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def pil_resize_crop(img: np.ndarray, short: int, crop: int, resample: int) -> torch.Tensor:
    """torchvision's Resize(short) + CenterCrop(crop) + ToTensor on a PIL image, written out: [1, 3, crop, crop]."""
    h, w = img.shape[:2]
    long = int(short * max(h, w) / min(h, w))
    size = (long, short) if h <= w else (short, long)  # PIL takes (width, height)
    a = np.asarray(Image.fromarray(img).resize(size, resample)).astype(np.float32) / 255
    top, left = int(round((a.shape[0] - crop) / 2)), int(round((a.shape[1] - crop) / 2))
    return torch.from_numpy(a[top:top + crop, left:left + crop].copy()).permute(2, 0, 1)[None]


def network_input(enc, img: np.ndarray) -> torch.Tensor:
    """What the encoder's network receives for `img`: its resize/crop, then its normalisation."""
    with torch.inference_mode():
        return enc.normalize(enc.prepare(torch.from_numpy(img)[None]))


def normalised(x: torch.Tensor, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> torch.Tensor:
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def assert_within(ours: torch.Tensor, ref: torch.Tensor, std: float, grey: float = 1.5) -> None:
    """At most `grey` grey levels apart anywhere (after normalising by `std`), well under one on average."""
    assert ours.shape == ref.shape
    diff = (ours - ref).abs()
    assert diff.max() <= grey * GREY / std, f"max {diff.max() * std * 255:.2f} grey levels"
    assert diff.mean() <= 0.5 * GREY / std


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    net = ResNet(18)
    torch.save({"r3m": {f"module.convnet.{k}": v for k, v in net.state_dict().items()}}, root / "r3m_18.pt")
    vit = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2)
    transformers.ViTModel(transformers.ViTConfig(**vit, intermediate_size=64, patch_size=16)).save_pretrained(
        root / "dino-vits16")
    dinov2 = transformers.Dinov2Config(**vit, mlp_ratio=2, image_size=518, patch_size=14)
    transformers.Dinov2Model(dinov2).save_pretrained(root / "dinov2-small")
    # facebook/dinov2-small's preprocessor_config.json
    (root / "dinov2-small" / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "BitImageProcessor", "do_resize": True, "size": {"shortest_edge": 256},
        "resample": 3, "do_center_crop": True, "crop_size": {"height": 224, "width": 224}, "do_rescale": True,
        "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": list(IMAGENET_MEAN),
        "image_std": list(IMAGENET_STD), "do_convert_rgb": True}))
    backbone = transformers.Dinov2Config(**vit, mlp_ratio=2, image_size=518, patch_size=14,
                                         out_features=["stage1"], reshape_hidden_states=False)
    depth = transformers.DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=32,
                                             neck_hidden_sizes=[8], reassemble_factors=[1], fusion_hidden_size=8,
                                             head_hidden_size=8)
    transformers.DepthAnythingForDepthEstimation(depth).save_pretrained(root / "Depth-Anything-V2-Small-hf")
    return root


@pytest.mark.parametrize("h, w", [(84, 84), (200, 300)])
def test_r3m_is_resize_256_centre_crop_224_bilinear(weights, h, w):
    # R3M's README: T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor()]), then its ImageNet normalisation
    img = fixed_image(h, w)
    ref = normalised(pil_resize_crop(img, 256, 224, Image.BILINEAR))
    assert_within(network_input(build_encoder("r3m18", weights_dir=weights), img), ref, min(IMAGENET_STD))
    old = network_input(build_encoder("r3m18", weights_dir=weights, zoo_preprocess="stretch"), img)
    assert (old - ref).abs().max() > 20 * GREY / max(IMAGENET_STD)  # the old path departs


def test_dino_is_resize_256_bicubic_centre_crop_224(weights):
    # DINO's eval_linear.py: Resize(256, interpolation=3), CenterCrop(224), ToTensor, ImageNet Normalize
    img = fixed_image(84, 84)
    ref = normalised(pil_resize_crop(img, 256, 224, Image.BICUBIC))
    assert_within(network_input(build_encoder("dino_s16_grid", weights_dir=weights), img), ref, min(IMAGENET_STD))


@pytest.mark.parametrize("h, w", [(84, 84), (200, 300)])
def test_dinov2_matches_its_hugging_face_image_processor(weights, h, w):
    processor = transformers.AutoImageProcessor.from_pretrained(weights / "dinov2-small", use_fast=False)
    img = fixed_image(h, w)
    ref = processor(images=img, return_tensors="pt").pixel_values
    assert ref.shape == (1, 3, 224, 224)
    assert_within(network_input(build_encoder("dinov2_s", weights_dir=weights), img), ref, min(IMAGENET_STD))
    old = network_input(build_encoder("dinov2_s", weights_dir=weights, zoo_preprocess="stretch"), img)
    assert (old - ref).abs().max() > 20 * GREY / max(IMAGENET_STD)


@pytest.mark.parametrize("name, size", [("depth_anything_s518", 518), ("depth_anything_s", 224)])
def test_depth_anything_matches_its_processor(weights, name, size):
    # Depth-Anything-V2-Small-hf's DPTImageProcessor: 518, keep the aspect ratio, multiple of 14, bicubic;
    # depth_anything_s is the same recipe at 224 (the documented departure)
    processor = transformers.DPTImageProcessor(size={"height": size, "width": size}, keep_aspect_ratio=True,
                                               ensure_multiple_of=14, resample=3, do_pad=False,
                                               image_mean=list(IMAGENET_MEAN), image_std=list(IMAGENET_STD))
    img = fixed_image(84, 84)
    ref = processor(images=img, return_tensors="pt").pixel_values
    enc = build_encoder(name, weights_dir=weights)
    assert enc.input_size == size and ref.shape == (1, 3, size, size)
    assert_within(network_input(enc, img), ref, min(IMAGENET_STD))


def test_dpt_hybrid_recipe_matches_its_processor():
    # Intel/dpt-hybrid-midas: DPTImageProcessor, 384 x 384 bicubic, mean = std = 0.5 (no model needed to check)
    from wsa_robot.encoders.zoo import CATALOGUE

    spec = next(s for s in CATALOGUE if s.name == "dpt_hybrid")
    processor = transformers.DPTImageProcessor(size={"height": 384, "width": 384}, resample=3,
                                               image_mean=[0.5] * 3, image_std=[0.5] * 3)
    img = fixed_image(84, 84)
    ref = processor(images=img, return_tensors="pt").pixel_values
    ours = spec.recipe(torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255)
    assert spec.input_size == spec.recipe.size == 384
    assert_within(normalised(ours, spec.mean, spec.std), ref, 0.5)


def test_new_runs_use_the_authors_recipe_and_older_runs_keep_stretch(tmp_path):
    import yaml

    from wsa_robot.config import dump_config, load_config, read_run_config

    cfg = load_config()
    assert cfg.zoo_preprocess == "authors"
    saved = yaml.safe_load(dump_config(cfg))
    del saved["zoo_preprocess"]  # a run saved before the key existed resized the old way
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved))
    assert read_run_config(tmp_path / "config.yaml").zoo_preprocess == "stretch"
