"""The observation spaces every robot backend shares: an upright uint8 image per camera, and optionally its
depth (metres) and segmentation (class index) from the same render pass."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

SEGMENT_CLASSES = ("background", "arena", "robot", "gripper", "object")


def camera_spaces(cameras: list[str], size: int, depth: bool = False,
                  segmentation: bool = False) -> dict[str, spaces.Space]:
    out: dict[str, spaces.Space] = {c: spaces.Box(0, 255, (size, size, 3), np.uint8) for c in cameras}
    if depth:
        out.update({f"{c}_depth": spaces.Box(0, np.inf, (size, size, 1), np.float32) for c in cameras})
    if segmentation:
        out.update({f"{c}_seg": spaces.Box(0, len(SEGMENT_CLASSES) - 1, (size, size, 1), np.uint8)
                    for c in cameras})
    return out
