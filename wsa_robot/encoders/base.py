"""The contract every frozen encoder keeps: uint8 images in, a float embedding out, no gradient ever."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FrozenEncoder(nn.Module):
    """Input uint8 [B, H, W, C] (channel-last, as cameras give them: C = 3 for RGB, 4 for an Atari frame
    stack); output float32 [B, *output_shape].

    Subclasses implement `encode(x)` on float [B, C, S, S] in [0, 1] at `input_size`.
    """

    name: str = "encoder"
    modality: str = "rgb"  # "rgb": uint8 camera images; "depth": float depth maps in metres [B, H, W, 1]
    in_channels: int = 3   # channels of the images it takes (uint8 modality)
    input_size: int = 84
    output_shape: tuple[int, ...] = ()
    recipe = None  # a preprocess.Recipe (zoo encoders: the authors' resize and crop); None: bilinear to input_size

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 [B, H, W, C] -> float [B, C, S, S] in [0, 1] at input_size, as `encode` takes it."""
        x = images.permute(0, 3, 1, 2).float().div_(255.0)
        if self.recipe is not None:
            return self.recipe(x)
        if x.shape[-1] != self.input_size or x.shape[-2] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        return x

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.encode(self.prepare(images).contiguous(memory_format=torch.channels_last))

    def freeze(self) -> "FrozenEncoder":
        """Frozen means: requires_grad False, eval mode; callers run it under torch.inference_mode."""
        for p in self.parameters():
            p.requires_grad_(False)
        return self.eval()

    def train(self, mode: bool = True) -> "FrozenEncoder":
        return super().train(False)  # a frozen encoder never leaves eval mode (BatchNorm, dropout)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
