"""How a zoo encoder turns a camera frame into its network's input: resize, centre crop, interpolation.

`authors` (the default, config key zoo_preprocess) follows each model's published recipe: R3M's README resizes
to 256 and centre-crops 224 (bilinear); DINO and DINOv2 evaluate at resize 256 bicubic, centre crop 224 (the
Hugging Face DINOv2 processor does the same); Depth Anything V2 and MiDaS/DPT resize bicubic with no crop.
Resizing is antialiased and, for bicubic, done in two clipped passes, as PIL's is: within ~1 grey level of
the authors' PIL pipelines (tests/test_zoo_preprocess.py). One departure stays: `depth_anything_s` runs at 224
rather than the authors' 518 (5x fewer patches, affordable on a CPU); `depth_anything_s518` is the authors'.

`stretch` is the old path: a plain bilinear resize of the whole frame to the model's input size. It keeps the
frame's borders, which the centre crop cuts (1/16 of each side): with a small robot camera image the object
or the gripper can sit there. Runs started before the key existed keep `stretch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

Mode = Literal["authors", "stretch"]
MODES: tuple[str, ...] = ("authors", "stretch")


@dataclass(frozen=True)
class Recipe:
    """[B, C, H, W] floats in [0, 1] -> [B, C, S, S]: resize, then centre-crop to `crop` (S = crop or resize).

    With a crop, `resize` is the shorter side after resizing (torchvision's Resize(int)); without one, the frame
    is resized to resize x resize."""
    resize: int
    crop: int | None = None
    interpolation: Literal["bilinear", "bicubic"] = "bilinear"
    antialias: bool = True

    @property
    def size(self) -> int:
        return self.crop or self.resize

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if self.crop is None:
            new = (self.resize, self.resize)
        else:
            short, long = min(h, w), max(h, w)
            long_new = int(self.resize * long / short)
            new = (self.resize, long_new) if h <= w else (long_new, self.resize)
        if (h, w) != new and self.interpolation == "bicubic":
            # as PIL does it: width, then height, each pass clipped to [0, 1] (its 8-bit image between passes);
            # one 2-D pass, unclipped in between, differs by up to 8 grey levels at sharp edges
            x = F.interpolate(x, size=(h, new[1]), mode="bicubic", align_corners=False, antialias=True).clamp_(0, 1)
            x = F.interpolate(x, size=new, mode="bicubic", align_corners=False, antialias=True).clamp_(0, 1)
        elif (h, w) != new:
            x = F.interpolate(x, size=new, mode=self.interpolation, align_corners=False, antialias=self.antialias)
        if self.crop is not None:
            top, left = int(round((new[0] - self.crop) / 2.0)), int(round((new[1] - self.crop) / 2.0))
            x = x[..., top:top + self.crop, left:left + self.crop]
        return x


def stretch(size: int) -> Recipe:
    """The whole frame, bilinear, straight to `size` x `size` (what FrozenEncoder does for every other encoder)."""
    return Recipe(size, None, "bilinear", antialias=False)


def choose(mode: str, authors: Recipe) -> Recipe:
    return authors if mode == "authors" else stretch(authors.size)
