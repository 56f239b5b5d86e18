"""The project's own conv encoder-decoder (the reference's 32-64-64 convs, plus a linear bottleneck)."""

from __future__ import annotations

import torch
from torch import nn

from wsa_robot.encoders.base import FrozenEncoder


def feature_grid(image_size: int) -> int:
    """The side of _conv_stack's output map: three stride-2 convs, 84 -> 11."""
    return (image_size + 7) // 8


def _conv_stack(channels: int, in_channels: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, channels // 2, 4, stride=2, padding=1), nn.ReLU(),  # 84 -> 42
        nn.Conv2d(channels // 2, channels, 4, stride=2, padding=1), nn.ReLU(),   # 42 -> 21
        nn.Conv2d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),        # 21 -> 11
    )


def _deconv_stack(channels: int, out_channels: int) -> nn.Sequential:
    """The mirror of _conv_stack: 11 -> 21 -> 42 -> 84 (callers crop to the image size)."""
    return nn.Sequential(
        nn.ConvTranspose2d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(channels, channels // 2, 4, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(channels // 2, out_channels, 4, stride=2, padding=1),
    )


class ConvAutoencoder(nn.Module):
    """The conv encoder-decoder that every dense skill trains (`wsa-robot pretrain`); its encoder half becomes
    a FrozenEncoder. `out_channels`: 3 reconstructs RGB, 1 predicts depth, C gives segmentation logits, and 0
    drops the decoder (the time-contrastive skill trains the encoder alone). `in_channels`: 3 for RGB, 4 for
    an Atari frame stack; checkpoints saved before it existed are RGB. `head_dim`: a linear head on the latent
    (the scene-state skill regresses the simulator's state with it); 0: none.
    """

    def __init__(self, latent_dim: int = 128, channels: int = 64, image_size: int = 84,
                 out_channels: int = 3, in_channels: int = 3, head_dim: int = 0) -> None:
        super().__init__()
        self.config = {"latent_dim": latent_dim, "channels": channels, "image_size": image_size,
                       "out_channels": out_channels, "in_channels": in_channels}
        if head_dim:
            self.config["head_dim"] = head_dim
            self.head = nn.Linear(latent_dim, head_dim)
        self.conv = _conv_stack(channels, in_channels)
        self.grid = feature_grid(image_size)
        flat = channels * self.grid * self.grid
        self.to_latent = nn.Linear(flat, latent_dim)
        if out_channels:
            self.from_latent = nn.Sequential(nn.Linear(latent_dim, flat), nn.ReLU())
            self.deconv = _deconv_stack(channels, out_channels)
        self.image_size = image_size

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_latent(self.conv(x).flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Raw decoder output [B, out_channels, S, S]: the skill applies its own activation."""
        c = self.config["channels"]
        y = self.deconv(self.from_latent(z).view(-1, c, self.grid, self.grid))
        return y[..., : self.image_size, : self.image_size]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class AutoencoderEncoder(FrozenEncoder):
    """The encoder half of a trained ConvAutoencoder (any skill): a 128-d state vector per image."""

    def __init__(self, model: ConvAutoencoder, name: str = "ae") -> None:
        super().__init__()
        self.name = name
        self.conv, self.to_latent = model.conv, model.to_latent
        self.input_size = model.config["image_size"]
        self.in_channels = model.config.get("in_channels", 3)
        self.output_shape = (model.config["latent_dim"],)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_latent(self.conv(x).flatten(1))
