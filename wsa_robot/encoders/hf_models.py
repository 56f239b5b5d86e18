"""Hugging Face vision models as frozen encoders: DINO / DINOv2 features and monocular depth maps.

Weights come from `from_pretrained(folder)` on a `save_pretrained` folder (or the hub cache); transformers is
imported here only, and this module only when such an encoder is built, so listing encoders stays fast.
"""

from __future__ import annotations

# Imports inside functions: transformers and huggingface_hub, loaded only when such an encoder is built.

import functools
from pathlib import Path
from typing import Literal, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from wsa_robot.encoders.base import FrozenEncoder
from wsa_robot.encoders.normalize import Normalize
from wsa_robot.encoders.weights import HF_WEIGHT_FILES, hf_complete, read_json
from wsa_robot.core.errors import UserError

Mode = Literal["cls", "mean", "grid"]
Kind = Literal["vit", "dinov2", "depth"]
EXPECTED_TYPES = {"vit": ("vit",), "dinov2": ("dinov2",), "depth": ("depth_anything", "dpt")}


class ViTFeatureEncoder(FrozenEncoder):
    """DINO (ViTModel) or DINOv2 (Dinov2Model) features of the last, layer-normed hidden state.

    mode "cls": the CLS token [C]; "mean": the mean of the patch tokens [C]; "grid": the patch tokens as a
    spatial map [C, h, w] with h = w = input_size / patch_size (register tokens, if any, are skipped).
    """

    def __init__(self, model: nn.Module, name: str, mode: Mode, input_size: int,
                 mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        patch, hidden = int(model.config.patch_size), int(model.config.hidden_size)
        if input_size % patch:
            raise ValueError(f"input size {input_size} is not a multiple of the patch size {patch}")
        self.name, self.mode, self.input_size = name, mode, input_size
        self.model, self.normalize = model, Normalize(mean, std)
        self.grid = input_size // patch
        self.output_shape = (hidden, self.grid, self.grid) if mode == "grid" else (hidden,)
        # ViTModel's position table is fixed to config.image_size unless asked to interpolate; Dinov2 always does
        self._kwargs = {"interpolate_pos_encoding": True} if model.config.model_type == "vit" else {}

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.model(pixel_values=self.normalize(x), **self._kwargs).last_hidden_state
        if self.mode == "cls":
            return tokens[:, 0]
        patches = tokens[:, -self.grid * self.grid:]
        if self.mode == "mean":
            return patches.mean(dim=1)
        return patches.transpose(1, 2).reshape(len(x), -1, self.grid, self.grid)


class DepthMapEncoder(FrozenEncoder):
    """A monocular depth model's predicted map, min-max scaled per image to [0, 1], average-pooled to a grid.

    Depth Anything and MiDaS-style DPT predict relative inverse depth that is only defined up to scale and
    shift per image, so the per-image scaling loses nothing and keeps every model's token on one range.
    """

    def __init__(self, model: nn.Module, name: str, input_size: int, grid: int,
                 mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.name, self.input_size, self.grid = name, input_size, grid
        self.model, self.normalize = model, Normalize(mean, std)
        self.output_shape = (1, grid, grid)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        depth = self.model(pixel_values=self.normalize(x)).predicted_depth.unsqueeze(1)  # [B, 1, H, W]
        lo = depth.amin(dim=(1, 2, 3), keepdim=True)
        hi = depth.amax(dim=(1, 2, 3), keepdim=True)
        depth = (depth - lo) / (hi - lo).clamp_min(1e-6)
        return F.adaptive_avg_pool2d(depth, self.grid)


def preprocessing_stats(folder: Path | None, mean: Sequence[float],
                        std: Sequence[float]) -> tuple[Sequence[float], Sequence[float]]:
    """The folder's preprocessor_config.json mean/std when it ships one (hub snapshots do), else the defaults."""
    cfg = read_json(folder / "preprocessor_config.json") if folder else {}
    return cfg.get("image_mean", mean), cfg.get("image_std", std)


def check_folder(folder: Path, kind: Kind, what: str) -> None:
    """A clear UserError for a folder without config.json or weights, or holding another kind of model."""
    if not (folder / "config.json").is_file():
        raise UserError(f"{what}: {folder} has no config.json; put a save_pretrained copy of the model there")
    if not hf_complete(folder):
        raise UserError(f"{what}: {folder} has no weights file ({' or '.join(HF_WEIGHT_FILES[::2])}); "
                        "put a save_pretrained copy of the model there")
    model_type = read_json(folder / "config.json").get("model_type")
    if model_type not in EXPECTED_TYPES[kind]:
        raise UserError(f"{what}: {folder} holds a {model_type!r} model, expected "
                        f"{' or '.join(repr(t) for t in EXPECTED_TYPES[kind])}")


@functools.cache
def _quiet_hub_libraries() -> None:
    """One-line errors: no per-retry network warnings or progress bars from the Hugging Face libraries (their
    own loggers, set once, by the first load that needs them)."""
    import huggingface_hub
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    huggingface_hub.utils.logging.set_verbosity_error()


def load_hf_model(kind: Kind, source: Path | str, what: str) -> nn.Module:
    """`from_pretrained` on a local folder (never the network) or, for a hub id, the hub (cache first).

    Missing or unreadable files become a one-line UserError; the model comes back in float32.
    """
    try:
        import transformers
    except ImportError:
        raise UserError(f"{what} needs the transformers package: pip install 'transformers>=4.45,<6'") from None
    _quiet_hub_libraries()
    local = isinstance(source, Path)
    if local:
        check_folder(source, kind, what)
    kwargs = {"local_files_only": True} if local else {}
    try:
        if kind == "vit":
            model = transformers.ViTModel.from_pretrained(source, add_pooling_layer=False, **kwargs)
        elif kind == "dinov2":
            model = transformers.Dinov2Model.from_pretrained(source, **kwargs)
        else:
            model = transformers.AutoModelForDepthEstimation.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as e:
        first = next((line for line in str(e).splitlines() if line.strip()), type(e).__name__)
        raise UserError(f"{what}: could not load {source}: {first.strip()}") from None
    return model.float()
