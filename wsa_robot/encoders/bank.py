"""All frozen encoders on all cameras of all envs: one batched inference call per encoder per env step."""

from __future__ import annotations

import numpy as np
import torch

from wsa_robot.encoders.base import FrozenEncoder


def token_key(encoder: str, camera: str) -> str:
    return f"{encoder}@{camera}"


class EncoderBank:
    """Maps camera images to embeddings keyed `encoder@camera`, stored as float16 (half the replay memory)."""

    def __init__(self, encoders: list[FrozenEncoder], cameras: list[str], device: str = "cpu",
                 dtype: np.dtype = np.float16) -> None:
        self.encoders = [e.freeze().to(device) for e in encoders]
        self.cameras, self.device, self.dtype = list(cameras), device, dtype

    @property
    def token_shapes(self) -> dict[str, tuple[int, ...]]:
        return {token_key(e.name, c): e.output_shape for e in self.encoders for c in self.cameras}

    @property
    def needs_depth(self) -> bool:
        return any(e.modality == "depth" for e in self.encoders)

    def embed(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """obs: camera -> uint8 [N, H, W, 3] (and `<camera>_depth` -> float [N, H, W, 1] for depth encoders);
        returns token -> [N, *shape] embeddings, every camera of one modality in one batch per encoder."""
        n = len(obs[self.cameras[0]])
        batches: dict[str, torch.Tensor] = {}

        def batch(modality: str) -> torch.Tensor:
            if modality not in batches:
                suffix = "" if modality == "rgb" else f"_{modality}"
                stacked = np.concatenate([obs[c + suffix] for c in self.cameras])
                batches[modality] = torch.from_numpy(stacked).to(self.device)
            return batches[modality]

        out: dict[str, np.ndarray] = {}
        with torch.inference_mode():
            for enc in self.encoders:
                emb = enc(batch(enc.modality)).float().cpu().numpy().astype(self.dtype)
                for i, cam in enumerate(self.cameras):
                    out[token_key(enc.name, cam)] = emb[i * n:(i + 1) * n]
        return out
