"""The catalogue of foundation encoders (R3M, DINO, DINOv2, depth models) and their registry entries.

Entries are cheap to make: they look for weights on disk and read small JSON headers, never a model.
"""

from __future__ import annotations

# Imports inside functions: torch models and transformers, loaded only when an encoder is built, so listing encoders stays fast.

from dataclasses import dataclass
from pathlib import Path

from wsa_robot.encoders.base import FrozenEncoder
from wsa_robot.encoders.entry import EncoderEntry
from wsa_robot.encoders.normalize import IMAGENET_MEAN, IMAGENET_STD
from wsa_robot.encoders.preprocess import Recipe, choose
from wsa_robot.encoders.sources import SOURCES, HubSource, UrlSource
from wsa_robot.encoders.weights import (check_recorded, check_recorded_folder, fetch_command, find_hf, find_r3m,
                                        hf_cache_dir, hf_cache_snapshot, hf_complete, hf_folder_name,
                                        hf_num_parameters, offline, r3m_candidates, read_json, searched_text,
                                        target_dir)
from wsa_robot.core.errors import UserError

HALF = (0.5, 0.5, 0.5)


# the authors' preprocessing (see preprocess.py): R3M's README, DINO/DINOv2's evaluation transform
R3M_RECIPE = Recipe(256, 224, "bilinear")
DINO_RECIPE = Recipe(256, 224, "bicubic")


@dataclass(frozen=True)
class R3MSpec:
    name: str
    depth: int
    recipe: Recipe = R3M_RECIPE


@dataclass(frozen=True)
class HFSpec:
    """A transformers model. `hidden`/`patch` describe the released model, for listings when weights are absent."""
    name: str
    family: str                 # dino | dinov2 | depth (shown in listings)
    kind: str                   # vit | dinov2 | depth: which transformers class loads it
    hub_id: str
    input_size: int
    hidden: int = 0
    patch: int = 16
    mode: str = "cls"           # cls | mean | grid (ViT features); ignored for depth
    grid: int = 8               # depth: the pooled map is [1, grid, grid]
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    recipe: Recipe = DINO_RECIPE  # the authors' resize / crop / interpolation; its size is input_size
    weights: str = ""             # the sources.py entry it reads (default: its own name)


def _hub(name: str) -> str:
    source = SOURCES[name]
    assert isinstance(source, HubSource)
    return source.hub_id


def _vit_specs(prefix: str, family: str, kind: str, hidden: int, patch: int) -> list[HFSpec]:
    return [HFSpec(prefix + suffix, family, kind, _hub(prefix), 224, hidden, patch, mode, weights=prefix)
            for suffix, mode in (("", "cls"), ("_mean", "mean"), ("_grid", "grid"))]


CATALOGUE: list[R3MSpec | HFSpec] = [
    R3MSpec("r3m18", 18), R3MSpec("r3m34", 34), R3MSpec("r3m50", 50),
    *_vit_specs("dino_s16", "dino", "vit", 384, 16),
    *_vit_specs("dino_b16", "dino", "vit", 768, 16),
    *_vit_specs("dinov2_s", "dinov2", "dinov2", 384, 14),
    *_vit_specs("dinov2_b", "dinov2", "dinov2", 768, 14),
    # Depth Anything V2 was trained at 518; 224 (a multiple of its patch 14) keeps CPU inference affordable.
    HFSpec("depth_anything_s", "depth", "depth", _hub("depth_anything_s"), 224, patch=14,
           recipe=Recipe(224, None, "bicubic")),
    HFSpec("depth_anything_s518", "depth", "depth", _hub("depth_anything_s"), 518, patch=14,
           recipe=Recipe(518, None, "bicubic"), weights="depth_anything_s"),
    # DPT-hybrid's native size; its preprocessor scales to [-1, 1] (mean = std = 0.5), not ImageNet statistics.
    HFSpec("dpt_hybrid", "depth", "depth", _hub("dpt_hybrid"), 384, mean=HALF, std=HALF,
           recipe=Recipe(384, None, "bicubic")),
]


# ---- R3M ------------------------------------------------------------------------------------------------------

def _r3m_missing(spec: R3MSpec, weights_dir: str | Path | None) -> UserError:
    source = SOURCES[spec.name]
    assert isinstance(source, UrlSource)
    dest = target_dir(weights_dir) / source.folder / "model.pt"
    how = (f"HF_HUB_OFFLINE is set, so download {source.published('model.pt')} by hand and put it at {dest}"
           if offline() else f"run `{fetch_command(spec.name, weights_dir)}` (it downloads "
           f"{source.published('model.pt')} to {dest})")
    where = " or ".join(str(p) for p in r3m_candidates(spec.depth, weights_dir))
    return UserError(f"weights for {spec.name} not found: {how}; a copy may also sit at {where}; "
                     f"{searched_text(weights_dir)}")


def _r3m_entry(spec: R3MSpec, weights_dir: str | Path | None, mode: str) -> EncoderEntry:
    found = find_r3m(spec.depth, weights_dir)

    def build() -> FrozenEncoder:
        from wsa_robot.encoders.r3m import load_r3m

        path = find_r3m(spec.depth, weights_dir)
        if path is None:
            raise _r3m_missing(spec, weights_dir)
        check_recorded(path)
        enc = load_r3m(spec.depth, path, spec.name)
        enc.recipe = choose(mode, spec.recipe)
        return enc

    def params() -> int:
        from wsa_robot.encoders.resnet import resnet_num_parameters

        return resnet_num_parameters(spec.depth)

    out = 2048 if spec.depth == 50 else 512
    return EncoderEntry(spec.name, "r3m", f"R3M ResNet-{spec.depth}, r3m_{spec.depth}.pt", "RGB 224x224", (out,),
                        found or r3m_candidates(spec.depth, weights_dir)[0], found is not None, build, params)


# ---- Hugging Face ---------------------------------------------------------------------------------------------

def _hf_missing(spec: HFSpec, weights_dir: str | Path | None, reason: str = "") -> UserError:
    name = spec.weights or spec.name
    dest = target_dir(weights_dir) / hf_folder_name(spec.hub_id)
    why = f" ({reason})" if reason else ""
    if offline():
        how = (f"HF_HUB_OFFLINE is set, so nothing is downloaded: put config.json, preprocessor_config.json and "
               f"model.safetensors of hub id {spec.hub_id} (https://huggingface.co/{spec.hub_id}) in {dest}/")
    else:
        how = f"run `{fetch_command(name, weights_dir)}` (it downloads hub id {spec.hub_id} to {dest}/)"
    return UserError(f"weights for {spec.name} ({spec.hub_id}) not found{why}: {how}; or put a save_pretrained "
                     f"folder named {hf_folder_name(spec.hub_id)} in a searched folder, or the hub snapshot in the "
                     f"Hugging Face cache {hf_cache_dir()}; {searched_text(weights_dir)}")


def _hf_output_shape(spec: HFSpec, folder: Path | None) -> tuple[int, ...]:
    if spec.kind == "depth":
        return (1, spec.grid, spec.grid)
    cfg = read_json(folder / "config.json") if folder else {}
    hidden, patch = int(cfg.get("hidden_size", spec.hidden)), int(cfg.get("patch_size", spec.patch))
    grid = spec.input_size // patch
    return (hidden, grid, grid) if spec.mode == "grid" else (hidden,)


def build_hf(spec: HFSpec, weights_dir: str | Path | None, mode: str = "authors") -> FrozenEncoder:
    """Load `spec` from a local folder, else (when online) by hub id, and wrap it as a frozen encoder."""
    from wsa_robot.encoders.hf_models import DepthMapEncoder, ViTFeatureEncoder, load_hf_model, preprocessing_stats

    what = f"encoder {spec.name} ({spec.hub_id})"
    folder = find_hf(spec.hub_id, weights_dir)
    if folder is not None:
        check_recorded_folder(folder)
        model = load_hf_model(spec.kind, folder, what)
    elif offline():
        raise _hf_missing(spec, weights_dir)
    else:
        try:
            model = load_hf_model(spec.kind, spec.hub_id, what)
        except UserError as e:
            raise _hf_missing(spec, weights_dir, str(e).split(": ", 1)[-1]) from None
        folder = hf_cache_snapshot(spec.hub_id)
    mean, std = preprocessing_stats(folder, spec.mean, spec.std)
    if spec.kind == "depth":
        enc: FrozenEncoder = DepthMapEncoder(model, spec.name, spec.input_size, spec.grid, mean, std)
    else:
        enc = ViTFeatureEncoder(model, spec.name, spec.mode, spec.input_size, mean, std)
    enc.recipe = choose(mode, spec.recipe)
    return enc.freeze()


def _hf_entry(spec: HFSpec, weights_dir: str | Path | None, mode: str) -> EncoderEntry:
    folder = find_hf(spec.hub_id, weights_dir)
    present = folder is not None and hf_complete(folder)
    expected = folder or target_dir(weights_dir) / hf_folder_name(spec.hub_id)
    what = {"cls": "CLS", "mean": "mean of patches", "grid": "patch grid"}.get(spec.mode, "")
    source = f"{spec.hub_id}, depth pooled" if spec.kind == "depth" else f"{spec.hub_id}, {what}"
    skip = ("pooler.",) if spec.kind == "vit" else ()
    return EncoderEntry(spec.name, spec.family, source,
                        f"RGB {spec.input_size}x{spec.input_size}",
                        _hf_output_shape(spec, folder), expected, present,
                        lambda: build_hf(spec, weights_dir, mode),
                        lambda: hf_num_parameters(folder, skip) if present else None)


def zoo_entries(weights_dir: str | Path | None = None, preprocess: str = "authors") -> dict[str, EncoderEntry]:
    """Every catalogue encoder by name; `weights_dir` is searched first (see weights.py for the order);
    `preprocess` is the config key zoo_preprocess (preprocess.py: authors | stretch)."""
    out = {}
    for spec in CATALOGUE:
        out[spec.name] = (_r3m_entry(spec, weights_dir, preprocess) if isinstance(spec, R3MSpec)
                          else _hf_entry(spec, weights_dir, preprocess))
    return out
