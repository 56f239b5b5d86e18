"""The names in a run's observations, decided here once: a camera token is `ENCODER@camera`, the vector tokens
are `proprio`, `state` (the privileged oracle) and `desired_goal`, and `token_mask` says which tokens are present.

A leaf module (no imports from the package), so the encoders, the fusions, the envs and the run's token set
(tokens.py) all read the same rules.
"""

from __future__ import annotations

SEPARATOR = "@"
PROPRIO = "proprio"  # the robot's own state, a vector the env gives
STATE = "state"  # the privileged object state: the oracle encoder's name, the env's key and the token's name
ACHIEVED_GOAL, DESIRED_GOAL = "achieved_goal", "desired_goal"  # goal tasks (HER); only desired_goal is a token
MASK_KEY = "token_mask"  # [K] floats, 1 = the token is present (0: removed, or its camera's frame is missing)


def token_key(encoder: str, camera: str) -> str:
    """The token of `encoder` applied to `camera`."""
    return f"{encoder}{SEPARATOR}{camera}"


def split_token(token: str) -> tuple[str, str] | None:
    """(encoder, camera) of a camera token, None for a vector token (proprio, state, desired_goal)."""
    encoder, sep, camera = token.rpartition(SEPARATOR)
    return (encoder, camera) if sep else None


def is_camera_token(name: str) -> bool:
    """Whether `name` is an `ENCODER@camera` token rather than an encoder name or a vector token."""
    return split_token(name) is not None
