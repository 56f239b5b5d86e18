"""Transporter (Kulkarni et al. 2019): unsupervised object keypoints learned by transporting features.

Two frames of one episode, source and target. A keypoint net finds K points in each; the target is rebuilt
from the source's feature map where the source's keypoints are suppressed and the target's keypoint regions
are pasted in from the target's own features. To rebuild the target, the keypoints must land on what moved:
the gripper and the cube. The frozen token is the K keypoint coordinates (x, y in [-1, 1]) per image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from wsa_robot.encoders.autoencoder import _conv_stack, _deconv_stack, feature_grid
from wsa_robot.encoders.base import FrozenEncoder


def spatial_softmax(heatmaps: torch.Tensor) -> torch.Tensor:
    """[B, K, h, w] logits -> [B, K, 2] expected (x, y) in [-1, 1]."""
    b, k, h, w = heatmaps.shape
    p = torch.softmax(heatmaps.flatten(2), dim=-1).view(b, k, h, w)
    ys = torch.linspace(-1.0, 1.0, h, device=heatmaps.device)
    xs = torch.linspace(-1.0, 1.0, w, device=heatmaps.device)
    return torch.stack([(p.sum(2) * xs).sum(-1), (p.sum(3) * ys).sum(-1)], dim=-1)


def gaussian_maps(points: torch.Tensor, h: int, w: int, std: float = 0.15) -> torch.Tensor:
    """[B, K, 2] points -> [B, K, h, w] isotropic Gaussian blobs of peak 1."""
    ys = torch.linspace(-1.0, 1.0, h, device=points.device).view(1, 1, h, 1)
    xs = torch.linspace(-1.0, 1.0, w, device=points.device).view(1, 1, 1, w)
    d2 = (xs - points[..., 0, None, None]) ** 2 + (ys - points[..., 1, None, None]) ** 2
    return torch.exp(-d2 / (2 * std ** 2))


class Transporter(nn.Module):
    """`in_channels`: 3 for RGB, 4 for an Atari frame stack (rebuilt channel for channel)."""

    def __init__(self, n_keypoints: int = 8, channels: int = 64, image_size: int = 84, in_channels: int = 3) -> None:
        super().__init__()
        self.config = {"n_keypoints": n_keypoints, "channels": channels, "image_size": image_size,
                       "in_channels": in_channels}
        self.features = _conv_stack(channels, in_channels)
        self.keynet = nn.Sequential(_conv_stack(channels, in_channels), nn.Conv2d(channels, n_keypoints, 1))
        self.decoder = _deconv_stack(channels, in_channels)
        self.image_size = image_size

    def keypoints(self, x: torch.Tensor) -> torch.Tensor:
        return spatial_softmax(self.keynet(x))

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The target image rebuilt from the source's features with keypoint regions transported."""
        phi_s, phi_t = self.features(source), self.features(target)
        h, w = phi_s.shape[-2:]
        g_s = gaussian_maps(self.keypoints(source), h, w)
        g_t = gaussian_maps(self.keypoints(target), h, w)
        phi = phi_s
        for k in range(g_s.shape[1]):
            gs, gt = g_s[:, k:k + 1], g_t[:, k:k + 1]
            phi = (1 - gs) * (1 - gt) * phi + gt * phi_t
        y = self.decoder(phi)[..., : self.image_size, : self.image_size]
        return torch.sigmoid(y)


class _TransporterToken(FrozenEncoder):
    """A frozen part of a trained Transporter; subclasses keep the part they need and say their output shape."""

    def __init__(self, model: Transporter, name: str) -> None:
        super().__init__()
        self.name = name
        self.features, self.keynet = model.features, model.keynet
        self.input_size = model.config["image_size"]
        self.in_channels = model.config.get("in_channels", 3)
        self.grid = feature_grid(self.input_size)


class KeypointEncoder(_TransporterToken):
    """The keypoint net of a trained Transporter: K (x, y) coordinates per image, flattened to [2K]."""

    def __init__(self, model: Transporter, name: str = "kp") -> None:
        super().__init__(model, name)
        del self.features
        self.output_shape = (2 * model.config["n_keypoints"],)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return spatial_softmax(self.keynet(x)).flatten(1)


class KeypointFeatureEncoder(_TransporterToken):
    """The feature map a trained Transporter moves around: [channels, grid, grid] per image (the reference's
    first Transporter token)."""

    def __init__(self, model: Transporter, name: str = "kp_features") -> None:
        super().__init__(model, name)
        del self.keynet
        self.output_shape = (model.config["channels"], self.grid, self.grid)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


class KeypointMapEncoder(_TransporterToken):
    """The keypoints of a trained Transporter drawn as K Gaussian maps on the feature grid (the reference's
    second Transporter token): where things are, in the same layout as the other spatial tokens."""

    def __init__(self, model: Transporter, name: str = "kp_maps") -> None:
        super().__init__(model, name)
        del self.features
        self.output_shape = (model.config["n_keypoints"], self.grid, self.grid)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return gaussian_maps(spatial_softmax(self.keynet(x)), self.grid, self.grid)


# the tokens a Transporter checkpoint offers: registry name suffix -> wrapper
TRANSPORTER_TOKENS: dict[str, type[FrozenEncoder]] = {"": KeypointEncoder, "_features": KeypointFeatureEncoder,
                                                      "_maps": KeypointMapEncoder}


def transporter_loss(model: Transporter, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(model(source, target), target)
