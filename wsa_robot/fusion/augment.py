"""Image augmentations an end-to-end agent trains with for robustness, applied to a batch of float images
[B, C, H, W] in [0, 1] in the features extractor's forward while it trains (never when it acts or is
evaluated): "shift" moves each image by up to 4 pixels, its edge pixels repeated into the gap (DrQ, Kostrikov
et al. 2020); "color" changes each image's brightness, contrast and per-channel gain (RAD's colour jitter,
Laskin et al. 2020). Draws come from torch's generator, which SB3 seeds with the run's seed."""

from __future__ import annotations

import torch
import torch.nn.functional as F

SHIFT = 4  # pixels
BRIGHTNESS, CONTRAST, GAIN = 0.2, 0.2, 0.1  # +-: added level, scale about the image mean, per-channel scale


def random_shift(x: torch.Tensor, pad: int = SHIFT) -> torch.Tensor:
    """Each image moved by up to `pad` pixels in x and y, independently."""
    n, size = len(x), x.shape[-1]
    padded = F.pad(x, (pad,) * 4, mode="replicate")
    offsets = torch.randint(0, 2 * pad + 1, (n, 2)).tolist()
    return torch.stack([padded[i, :, dy:dy + size, dx:dx + size] for i, (dy, dx) in enumerate(offsets)])


def color_jitter(x: torch.Tensor) -> torch.Tensor:
    """Each image's brightness, contrast and channel gains changed by a random amount, clipped to [0, 1]."""
    n, c = x.shape[:2]
    uniform = lambda *shape, r: (torch.rand(*shape, device=x.device) * 2 - 1) * r  # noqa: E731
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * (1 + uniform(n, 1, 1, 1, r=CONTRAST)) + mean
    x = x * (1 + uniform(n, c, 1, 1, r=GAIN)) + uniform(n, 1, 1, 1, r=BRIGHTNESS)
    return x.clamp(0.0, 1.0)


def augment(x: torch.Tensor, kinds: tuple[str, ...] | list[str]) -> torch.Tensor:
    if "shift" in kinds:
        x = random_shift(x)
    if "color" in kinds:
        x = color_jitter(x)
    return x
