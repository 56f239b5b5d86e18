"""The simulator's own depth camera as a token: no model, the depth map average-pooled to a small grid."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from wsa_robot.encoders.base import FrozenEncoder


class SimDepthEncoder(FrozenEncoder):
    """Input float [B, H, W, 1] depth in metres; output [1, grid, grid], clipped to `max_depth` metres.

    Clipping keeps the far background (several metres) from dominating the scale of the table-top scene.
    """

    modality = "depth"

    def __init__(self, name: str = "sim_depth", grid: int = 8, max_depth: float = 3.0) -> None:
        super().__init__()
        self.name, self.grid, self.max_depth = name, grid, max_depth
        self.output_shape = (1, grid, grid)

    def forward(self, depth: torch.Tensor) -> torch.Tensor:
        x = depth.permute(0, 3, 1, 2).float().clamp_(0.0, self.max_depth)
        return F.adaptive_avg_pool2d(x, self.grid)
