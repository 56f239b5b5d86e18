"""The checkpoint format of the project's own encoders (the skills `wsa-robot pretrain` trains, shipped in
assets/): kind + config + state dict, written atomically. It lives with the encoders, which load it; pretrain/
writes it."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from wsa_robot.core.atomic import atomic_path
from wsa_robot.encoders.autoencoder import ConvAutoencoder
from wsa_robot.encoders.stdim import STDIM
from wsa_robot.encoders.transporter import Transporter
from wsa_robot.encoders.vos import VOS

SKILL_NAMES = ("autoencoder", "depth", "segmentation", "contrastive", "keypoints", "stdim", "vos", "scene_state",
               "scene_invariant")
CHECKPOINT_FORMAT = "wsa-robot/autoencoder/v1"  # the name predates the other skills; the format is shared
KINDS: dict[str, type[nn.Module]] = {"conv_autoencoder": ConvAutoencoder, "transporter": Transporter,
                                     "stdim": STDIM, "vos": VOS}


def save_model(model: nn.Module, path: Path) -> None:
    kind = next(k for k, cls in KINDS.items() if isinstance(model, cls))
    with atomic_path(path) as tmp:
        torch.save({"format": CHECKPOINT_FORMAT, "kind": kind, "config": model.config,
                    "state_dict": model.state_dict()}, tmp)


def load_model(path: Path) -> nn.Module:
    """The model saved at `path`; checkpoints from before "kind" existed are conv autoencoders."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint")
    model = KINDS[blob.get("kind", "conv_autoencoder")](**blob["config"])
    model.load_state_dict(blob["state_dict"])
    return model.eval()
