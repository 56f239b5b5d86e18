"""One row of the encoder registry: what an encoder is and how to build it, known without building it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from wsa_robot.encoders.base import FrozenEncoder


@dataclass(frozen=True)
class EncoderEntry:
    name: str
    family: str
    source: str
    input: str
    output_shape: tuple[int, ...]
    weights: Path | None              # where the weights are, or where they are expected when missing
    weights_present: bool
    build: Callable[[], FrozenEncoder]
    params: Callable[[], int | None] | None = None  # a cheap count (no weights loaded); None: build to count
    modality: str = "rgb"  # what it reads, as FrozenEncoder.modality: "rgb" images or "depth" maps
