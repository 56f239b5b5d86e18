"""Video object segmentation (Goel et al. 2018, "Unsupervised Video Object Segmentation for Deep Reinforcement
Learning"): K soft object masks learned without labels, by explaining the motion between two frames.

The network reads two consecutive frames (t-1, t), predicts K sigmoid masks of frame t, one translation per
mask and one for the camera. The flow at every pixel of frame t is the camera's translation plus the
mask-weighted sum of the object translations; warping frame t-1 back along it must rebuild frame t. To rebuild
it the masks have to cover what moved (ball, paddles, sprites) and nothing else.

Input: float [B, C, S, S] in [0, 1]; with an Atari 4-frame stack (oldest first) it reads the newest two frames,
so the frozen encoder takes the same observation as every other Atari encoder. Pixels are scaled once (the
reference divided them by 255 twice). The frozen token is the K masks max-pooled to the 11x11 grid the other
spatial skills use (Transporter maps): a 2-pixel ball survives max-pooling, not average-pooling, and CNN fusion
can stack every spatial token.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from wsa_robot.encoders.autoencoder import _conv_stack, _deconv_stack, feature_grid
from wsa_robot.encoders.base import FrozenEncoder

PAIR = 2  # frames the network reads
MOTION_GAIN = 0.05  # the translation head reads 7744 features: a first Adam step at full gain warps every pixel


class VOS(nn.Module):
    """`max_shift`: the largest translation, in normalised coordinates ([-1, 1] spans the image)."""

    def __init__(self, n_masks: int = 20, channels: int = 64, image_size: int = 84, in_channels: int = 4,
                 max_shift: float = 0.25) -> None:
        super().__init__()
        if in_channels < PAIR:
            raise ValueError(f"VOS reads {PAIR} consecutive frames; got {in_channels} channels")
        self.config = {"n_masks": n_masks, "channels": channels, "image_size": image_size,
                       "in_channels": in_channels, "max_shift": max_shift}
        self.encoder = _conv_stack(channels, PAIR)
        self.grid = feature_grid(image_size)
        self.mask_decoder = _deconv_stack(channels, n_masks)
        self.motion = nn.Linear(channels * self.grid * self.grid, 2 * n_masks + 2)  # per mask + camera
        self.image_size = image_size
        # start from "nothing moves" (rebuilt frame = frame t-1) with near-empty masks: training only ever has
        # to explain a change, never first undo a random warp of the whole screen
        nn.init.zeros_(self.motion.weight)
        nn.init.zeros_(self.motion.bias)
        nn.init.constant_(self.mask_decoder[-1].bias, -3.0)

    def masks_and_motion(self, pair: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """pair [B, 2, S, S] (t-1, t) -> masks [B, K, S, S] in [0, 1], translations [B, K, 2], camera [B, 2]."""
        h = self.encoder(pair)
        masks = torch.sigmoid(self.mask_decoder(h)[..., : self.image_size, : self.image_size])
        shifts = torch.tanh(MOTION_GAIN * self.motion(h.flatten(1))) * self.config["max_shift"]
        k = self.config["n_masks"]
        return masks, shifts[:, :-2].view(-1, k, 2), shifts[:, -2:]

    def masks(self, x: torch.Tensor) -> torch.Tensor:
        """Masks of the newest frame of x [B, C, S, S]."""
        return torch.sigmoid(self.mask_logits(x))

    def mask_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The masks' logits for the newest frame of x [B, C, S, S], without the motion head (the frozen token
        needs only the masks)."""
        logits = self.mask_decoder(self.encoder(x[:, -PAIR:]))
        if logits.shape[-1] == self.image_size:  # 84 decodes to exactly 84: no crop (a copy in an ONNX graph)
            return logits
        return logits[..., : self.image_size, : self.image_size]

    def rebuild(self, pair: torch.Tensor, source: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Frame t rebuilt by warping frame t-1 (or `source`, e.g. a blurred frame t-1) along the predicted
        flow, and the masks."""
        masks, objects, camera = self.masks_and_motion(pair)
        flow = torch.einsum("bkhw,bkc->bhwc", masks, objects) + camera[:, None, None, :]
        b, _, s, _ = pair.shape
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, s, device=pair.device),
                                torch.linspace(-1, 1, s, device=pair.device), indexing="ij")
        base = torch.stack([xs, ys], dim=-1).expand(b, s, s, 2)
        warped = F.grid_sample(pair[:, :1] if source is None else source, base + flow, mode="bilinear",
                               padding_mode="border", align_corners=True)
        return warped, masks


class VOSEncoder(FrozenEncoder):
    """The masks of a trained VOS for the newest two frames, max-pooled to [K, grid, grid]."""

    def __init__(self, model: VOS, name: str = "vos") -> None:
        super().__init__()
        self.name = name
        self.model = model
        self.input_size = model.config["image_size"]
        self.in_channels = model.config["in_channels"]
        self.output_shape = (model.config["n_masks"], model.grid, model.grid)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        # sigmoid is monotone, so pooling the logits first gives the same maxima (bit for bit) and the sigmoid
        # runs on 11x11 values per mask instead of 84x84
        pool = grid_max_pool if torch.onnx.is_in_onnx_export() else F.adaptive_max_pool2d
        return torch.sigmoid(pool(self.model.mask_logits(x), self.output_shape[1:]))


def _bins(n_in: int, n_out: int) -> torch.Tensor:
    """adaptive_max_pool2d's windows along one axis, [floor(i n_in / n_out), ceil((i + 1) n_in / n_out)), as
    index rows of equal length (a shorter window repeats its last index)."""
    starts = [math.floor(i * n_in / n_out) for i in range(n_out)]
    ends = [math.ceil((i + 1) * n_in / n_out) for i in range(n_out)]
    width = max(e - s for s, e in zip(starts, ends))
    return torch.tensor([[min(s + j, e - 1) for j in range(width)] for s, e in zip(starts, ends)])


def grid_max_pool(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """F.adaptive_max_pool2d(x, size), bit for bit, in ops an ONNX graph has (its exporter takes only sizes
    that divide the input; 84 -> 11 does not): rows gathered and maxed, then columns, each as rows."""
    rows, cols = _bins(x.shape[-2], size[0]), _bins(x.shape[-1], size[1])
    y = x[..., rows.flatten(), :].unflatten(-2, tuple(rows.shape)).amax(-2).transpose(-1, -2)
    return y[..., cols.flatten(), :].unflatten(-2, tuple(cols.shape)).amax(-2).transpose(-1, -2)
