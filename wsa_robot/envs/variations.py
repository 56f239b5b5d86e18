"""Named visual variations (visual distribution shift) of a task: what every backend's variations share.

Spec syntax: `NAME` (seed 0) or `NAME:SEED`; `intact` (or None) is the unchanged scene. Each backend owns
its variations (`Backend.variations`, envs/backends/): robosuite tasks get MuJoCo scene changes
(envs/robosuite/variations.py), Atari games HackAtari's modifications of that game (envs/atari/variations.py);
envs/task_variations.py asks a task's backend. An env module resolves a name against its own backend's list
(`pick`), never the registry. Light: no simulator is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from wsa_robot.core.errors import UserError

if TYPE_CHECKING:
    import numpy as np

INTACT = "intact"


@dataclass(frozen=True)
class Variation:
    name: str
    description: str
    apply: Callable[[Any, np.random.Generator], None]  # (the backend's scene, the variation's own rng)
    seeded: bool = True  # False: the same change whatever the seed
    in_all: bool = True  # False: valid by name, left out of `--variations all`


def parse_spec(spec: str) -> tuple[str, int]:
    name, _, seed = spec.strip().partition(":")
    if seed and not seed.isdigit():
        raise UserError(f"bad variation {spec!r}: write NAME or NAME:SEED with a whole number seed, "
                        "e.g. table_color:3")
    return name, int(seed or 0)


def pick(spec: str | None, known: Callable[[], dict[str, Variation]]) -> tuple[Variation, int] | None:
    """The variation and seed `spec` names among `known()` (the variations of the task's backend, asked only
    when a variation is named), None for the intact scene; a UserError otherwise."""
    if spec is None:
        return None
    name, seed = parse_spec(spec)
    if name == INTACT:
        return None
    variations = known()
    if name not in variations:
        raise UserError(f"unknown variation {name!r}; choose one of: {', '.join([INTACT, *variations])}")
    if not variations[name].seeded and ":" in spec:
        raise UserError(f"variation {name} is the same for every seed; drop ':{seed}'")
    return variations[name], seed


def filed_name(found: tuple[Variation, int] | None) -> str:
    """`intact`, `NAME` (seed 0 or not seeded) or `NAME:SEED`: the name a result is filed under."""
    if found is None:
        return INTACT
    variation, seed = found
    return variation.name if seed == 0 or not variation.seeded else f"{variation.name}:{seed}"
