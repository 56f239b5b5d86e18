"""Camera faults (dropped, noisy, frozen frames) injected into a backend env's Dict observation.

A spec string `KIND:CAMERA:key=value[,key=value]` names one fault, e.g. `camera_dropout:agentview:p=0.5`.
The wrapper also says, per camera, whether a fresh frame arrived (`<camera>_valid`), so a fusion module can
mask a missing frame instead of reading garbage. Noise keeps valid=1: a robot cannot tell a noisy frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from wsa_robot.core.errors import UserError

ALL = "all"
VALID_SUFFIX = "_valid"
COMPANIONS = ("_depth", "_seg")  # images rendered with a camera's frame; they share its fault
# kind -> {parameter: default}; None = required
KINDS: dict[str, dict[str, float | None]] = {
    "camera_dropout": {"p": 1.0},  # p: probability per step that the frame is lost (black, valid 0)
    "noise": {"sigma": None},      # sigma: Gaussian pixel noise std in 0-255 units (valid stays 1)
    "freeze": {"p": 1.0},          # p: probability per step the previous frame is sent again (valid 0)
}
EXAMPLE = "camera_dropout:agentview:p=0.5"
_STREAM = 0xFA17  # mixed into the seed so fault draws never share a stream with the env's own RNG


def valid_key(camera: str) -> str:
    return camera + VALID_SUFFIX


@dataclass(frozen=True)
class Fault:
    """One parsed fault. `camera` may be "all"; `p` is used by dropout and freeze, `sigma` by noise."""
    kind: str
    camera: str
    p: float = 1.0
    sigma: float = 0.0

    def __str__(self) -> str:
        value = f"sigma={self.sigma:g}" if self.kind == "noise" else f"p={self.p:g}"
        return f"{self.kind}:{self.camera}:{value}"

    def applies_to(self, camera: str) -> bool:
        return self.camera in (ALL, camera)


def _number(spec: str, key: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise UserError(f"fault {spec!r}: {key}={raw!r} is not a number; write e.g. {key}=0.5") from None
    if not math.isfinite(value):
        raise UserError(f"fault {spec!r}: {key} must be finite; write e.g. {key}=0.5")
    if key == "p" and not 0.0 <= value <= 1.0:
        raise UserError(f"fault {spec!r}: p={raw} is not a probability; use a value in [0, 1]")
    if key == "sigma" and value < 0:
        raise UserError(f"fault {spec!r}: sigma={raw} is negative; use a pixel std >= 0 (0-255 units)")
    return value


def parse_fault(spec: str, cameras: Sequence[str] | None = None) -> Fault:
    """Parse `KIND:CAMERA:key=value[,key=value]`; `cameras`: the run's cameras, to reject unknown ones."""
    parts = spec.strip().split(":", 2)
    if len(parts) < 2 or not all(parts[:2]):
        raise UserError(f"malformed fault {spec!r}; write KIND:CAMERA[:key=value], e.g. {EXAMPLE}")
    kind, camera = parts[0], parts[1]
    if kind not in KINDS:
        raise UserError(f"unknown fault kind {kind!r} in {spec!r}; choose one of: {', '.join(KINDS)}")
    if cameras is not None and camera != ALL and camera not in cameras:
        raise UserError(f"fault {spec!r}: camera {camera!r} is not one of this run's cameras; "
                        f"use one of: {', '.join(list(cameras) + [ALL])}")
    params: dict[str, Any] = dict(KINDS[kind])
    for item in (parts[2].split(",") if len(parts) == 3 and parts[2] else []):
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq or key not in KINDS[kind]:
            raise UserError(f"fault {spec!r}: bad parameter {item!r}; {kind} takes "
                            f"{', '.join(k + '=...' for k in KINDS[kind])}")
        params[key] = _number(spec, key, raw.strip())
    missing = [k for k, v in params.items() if v is None]
    if missing:
        raise UserError(f"fault {spec!r} needs {missing[0]}=...; e.g. {kind}:{camera}:{missing[0]}=10")
    return Fault(kind, camera, **params)


def parse_faults(specs: Sequence[str | Fault] | None, cameras: Sequence[str] | None = None) -> list[Fault]:
    """Every spec parsed (already parsed Faults pass through, re-checked against `cameras`)."""
    return [parse_fault(str(s), cameras) for s in specs or []]


def image_cameras(space: spaces.Dict) -> list[str]:
    """The keys of a Dict space that hold camera images: uint8 [H, W, C] Boxes (not depth/seg companions)."""
    return [k for k, s in space.spaces.items()
            if isinstance(s, spaces.Box) and s.dtype == np.uint8 and len(s.shape) == 3
            and not k.endswith(COMPANIONS)]


class FaultWrapper(gym.Wrapper):
    """Applies faults to each camera's frame (and its depth/seg companions), in the order given, and adds
    `<camera>_valid` (float32 [1]): 1 when a fresh frame arrived this step, 0 when it was dropped or stale.

    Seeded: the same `seed` (or the seed passed to reset) gives the same faults at the same steps.
    `report_valid=False` leaves the `_valid` keys out (pixel-only agents, E2E, have no mask to set).
    """

    def __init__(self, env: gym.Env, faults: Sequence[Fault | str], seed: int | None = None,
                 cameras: Sequence[str] | None = None, report_valid: bool = True) -> None:
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, spaces.Dict):
            raise TypeError("FaultWrapper needs a Dict observation space")
        self.cameras = list(cameras) if cameras is not None else image_cameras(space)
        self.faults = parse_faults(faults, self.cameras)
        self.report_valid = report_valid
        self._seed = seed if seed is not None else 0
        self._rng = np.random.default_rng([_STREAM, self._seed])
        self._last: dict[tuple[int, str], dict[str, np.ndarray]] = {}  # (fault index, camera) -> frozen frame
        if report_valid:
            extra = {valid_key(c): spaces.Box(0.0, 1.0, (1,), np.float32) for c in self.cameras}
            self.observation_space = spaces.Dict({**space.spaces, **extra})

    def set_faults(self, faults: Sequence[Fault | str]) -> None:
        """Apply `faults` from now on (none: frames pass unchanged, still with `_valid` keys of 1), drawn as a
        wrapper made with them draws them: the fault RNG starts again from the wrapper's seed."""
        self.faults = parse_faults(faults, self.cameras)
        self._rng = np.random.default_rng([_STREAM, self._seed])
        self._last.clear()

    def _frames(self, obs: dict[str, np.ndarray], camera: str) -> dict[str, np.ndarray]:
        return {k: obs[k] for k in [camera] + [camera + s for s in COMPANIONS] if k in obs}

    def _apply(self, obs: dict[str, np.ndarray], first: bool) -> dict[str, np.ndarray]:
        obs = dict(obs)
        for cam in self.cameras:
            valid = 1.0
            for i, fault in enumerate(self.faults):
                if not fault.applies_to(cam):
                    continue
                frames = self._frames(obs, cam)
                if fault.kind == "camera_dropout":
                    if self._rng.random() < fault.p:
                        frames = {k: np.zeros_like(v) for k, v in frames.items()}
                        valid = 0.0
                elif fault.kind == "freeze":
                    if not first and self._rng.random() < fault.p:
                        frames = {k: v.copy() for k, v in self._last[(i, cam)].items()}
                        valid = 0.0
                    self._last[(i, cam)] = {k: v.copy() for k, v in frames.items()}
                elif fault.kind == "noise" and fault.sigma > 0:
                    img = frames[cam].astype(np.float32) + self._rng.normal(0.0, fault.sigma, frames[cam].shape)
                    frames[cam] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
                obs.update(frames)
            if self.report_valid:
                obs[valid_key(cam)] = np.array([valid], np.float32)
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            self._rng = np.random.default_rng([_STREAM, seed])
        obs, info = self.env.reset(seed=seed, options=options)
        self._last.clear()
        return self._apply(obs, first=True), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._apply(obs, first=False), reward, terminated, truncated, info
