"""`device=auto|cpu|cuda|cuda:N` resolved once, for the encoder bank and the learner alike."""

from __future__ import annotations

import re

import torch

from wsa_robot.core.errors import UserError


def resolve_device(name: str) -> str:
    """auto = cuda when present, else cpu; asking for a GPU that is not there is a user error, not a crash."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return name
    if not re.fullmatch(r"cuda(:\d+)?", name):
        raise UserError(f"bad value for device: {name!r}; use auto, cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise UserError(f"device={name} but torch sees no CUDA GPU here; use device=auto or device=cpu")
    index = int(name.split(":")[1]) if ":" in name else 0
    if index >= torch.cuda.device_count():
        raise UserError(f"device={name} but only {torch.cuda.device_count()} CUDA device(s) exist")
    return name
