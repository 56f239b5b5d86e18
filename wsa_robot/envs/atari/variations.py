"""HackAtari modifications as the "atari" backend's named variations (`wsa-robot eval RUN --variation NAME`).

HackAtari (Delfosse et al. 2024, PyPI `hackatari` 0.0.6 over `ocatari` 2.2.1) changes a game by writing its
RAM before every emulated frame: colours of the player, ball or blocks, a drift of the ball, a lazy enemy.
Its names live in hackatari/games/<game>.py, as the keys of the `modif_mapping` dict that
`GameModifications._fill_modif_lists` builds; HackAtari silently ignores any other name, so the valid names
are read from that module's source here (without importing it) and an unknown one is refused.

The env under a modification is the intact one with HackAtari as its core: HackAtari with `frameskip=1` and
`obs_mode="ori"` (raw RGB frames, no stack of its own) under the same AtariPreprocessing (frame skip 4, max
of the last 2 frames, grey 84x84, no-ops at reset) and frame stack as wsa_robot/envs/atari/env.py, so the
observation is the same uint8 [84, 84, 4] stack. `HackedAtari` is the small gym.Env around it that those
wrappers need (`unwrapped.ale`, `_frameskip == 1`, the ALE env's seeded `np_random` for the no-ops), so the
same seed and actions give the same no-ops as the intact game.

`--variations all` on a game runs a short curated list of modifications that change what the screen shows
(`CURATED`): Breakout's ball-and-paddle and block colours and a rightward drift of the ball; Pong has no colour
modification in 0.0.6, so its list is the ball's drifts and the lazy enemy. A game without a curated list gets
its colour modifications (names with "color"/"colour") and the first drift, else all of its names.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from wsa_robot.core.errors import UserError
from wsa_robot.envs.variations import Variation

# Imports inside functions: hackatari loads its emulator core, which listing a game's variations does not need.

BACKEND = "atari"

CURATED: dict[str, list[str]] = {
    "Breakout": ["color_player_and_ball_red", "color_all_blocks_blue", "color_all_blocks_green", "right_drift"],
    "Pong": ["up_drift", "right_drift", "lazy_enemy"],
}


def _games_dir() -> Path | None:
    spec = importlib.util.find_spec("hackatari")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "games"


@functools.lru_cache(maxsize=None)
def modifications(game: str) -> dict[str, str]:
    """HackAtari's modifications of a game: name -> description (the method's docstring, first line), in the
    order the module lists them; empty when hackatari is missing or does not cover the game."""
    root = _games_dir()
    source = root / f"{game.lower()}.py" if root is not None else None
    if source is None or not source.is_file():
        return {}
    tree = ast.parse(source.read_text())
    docs: dict[str, str] = {}
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "GameModifications":
            for m in node.body:
                if isinstance(m, ast.FunctionDef) and ast.get_docstring(m):
                    docs[m.name] = ast.get_docstring(m).strip().splitlines()[0]
        if isinstance(node, ast.FunctionDef) and node.name == "_fill_modif_lists":
            for d in ast.walk(node):
                if isinstance(d, ast.Dict):
                    names += [k.value for k in d.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    return {n: docs.get(n, n.replace("_", " ")) for n in dict.fromkeys(names)}


def covered_games() -> list[str]:
    root = _games_dir()
    return sorted(p.stem for p in root.glob("*.py") if p.stem != "__init__" and modifications(p.stem)) \
        if root is not None else []


def curated(game: str) -> list[str]:
    """The modifications `--variations all` runs for a game (see the module docstring)."""
    known = modifications(game)
    if game in CURATED:
        return [n for n in CURATED[game] if n in known]
    colours = [n for n in known if "color" in n or "colour" in n][:4]
    drift = [n for n in known if "drift" in n][:1]
    return colours + drift or list(known)


def game_of(task) -> str:
    """`ALE/Breakout-v5` -> `Breakout`."""
    return task.env_id.split("/")[-1].split("-")[0]


def variations(task) -> dict:
    """The Variation entries of an Atari task (AtariBackend.variations, envs/atari/backend.py, calls this)."""
    game = game_of(task)
    known = modifications(game)
    if not known:
        if _games_dir() is None:
            raise UserError("Atari variations need hackatari: pip install hackatari==0.0.6 ocatari==2.2.1")
        raise UserError(f"HackAtari 0.0.6 has no modifications for {game}; games it covers: "
                        f"{', '.join(covered_games())}")
    chosen = curated(game)  # first, in the curated order (`--variations all`), then the other names
    return {n: Variation(n, f"HackAtari: {known[n]}", _not_a_scene, seeded=False, in_all=n in chosen)
            for n in [*chosen, *(n for n in known if n not in chosen)]}


def _not_a_scene(scene, rng) -> None:
    raise RuntimeError("an Atari variation is applied by HackAtari inside the env, not to a MuJoCo scene")


class HackedAtari(gym.Env):
    """HackAtari(ALE/<Game>-v5, modifs=[name], frameskip=1, obs_mode="ori") as the base env that gymnasium's
    AtariPreprocessing and SB3's Atari wrappers expect (they read `env.unwrapped`)."""

    metadata = {"render_modes": []}

    def __init__(self, env_id: str, modification: str, **kwargs: Any) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # hackatari imports pygame, which greets on stdout
        from hackatari import HackAtari

        self.hack = HackAtari(env_id, modifs=[modification], obs_mode="ori", create_buffer_stacks=[],
                              frameskip=1, **kwargs)
        if not (self.hack.step_modifs or self.hack.reset_modifs or self.hack.post_detection_modifs):
            raise UserError(f"HackAtari did not apply {modification!r} to {env_id}")  # never silently intact
        self._ale_env = self.hack._env.unwrapped  # the ALE AtariEnv: seeded by reset(seed=...)
        self.action_space = self.hack.action_space
        self.observation_space = self._ale_env.observation_space
        self._frameskip = 1

    @property
    def ale(self):
        return self._ale_env.ale

    @property
    def np_random(self) -> np.random.Generator:
        return self._ale_env.np_random

    def get_action_meanings(self) -> list[str]:
        return self._ale_env.get_action_meanings()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        return self.hack.reset(seed=seed, options=options)

    def step(self, action):
        return self.hack.step(action)

    def close(self) -> None:
        self.hack.close()
