"""Atari games (ALE): one camera, `screen` (a 4-frame grey stack), HackAtari's modifications as variations,
and a task for any ALE game (`atari/<Game>`) without its own YAML. The env is env.py beside it, imported
when one is made (ale_py is loaded when an env is made or the games are listed)."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

import yaml

from wsa_robot.envs.backends.base import Backend, EnvOptions, RunOptions
from wsa_robot.core.errors import UserError
from wsa_robot.core.keys import token_key
from wsa_robot.core.resources import data_dir
from wsa_robot.core.task_spec import TaskSpec

# Imports inside functions: ale_py, gymnasium and the env modules load when an env is made or the games are
# listed, so the registry stays cheap to import.

if TYPE_CHECKING:
    import gymnasium as gym

    from wsa_robot.envs.variations import Variation

TEMPLATE_GAME = "Pong"  # tasks/atari/Pong.yaml is the setup every other ALE game gets (`--task atari/<Game>`)


def ale_games() -> list[str]:
    """Every game ale-py registers, by its gymnasium name: Pong, Breakout, MsPacman, ..."""
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    return sorted(k[4:-3] for k in gym.registry if k.startswith("ALE/") and k.endswith("-v5"))


def own_encoder(game: str, skill_encoder: str = "ae") -> str:
    """The name `wsa-robot pretrain --task atari/<game>` registers (`<encoder>_<task name, lower, / as _>`)."""
    return f"{skill_encoder}_atari_{game.lower()}"


class AtariBackend(Backend):
    name = "atari"
    prefix = "atari"
    frame_labels = ("stack",)

    def make_env(self, task: TaskSpec, cameras: list[str], image_size: int, options: EnvOptions) -> gym.Env:
        from wsa_robot.envs.atari.env import make_atari_env

        return make_atari_env(task, image_size, training=options.training, seed=options.seed,
                              horizon=options.horizon, variation=options.variation)

    def variations(self, task: TaskSpec) -> dict[str, Variation]:
        from wsa_robot.envs.atari.variations import variations

        return variations(task)

    def check_options(self, task: TaskSpec, options: RunOptions) -> None:
        if options.state:
            raise UserError(f"task {task.name} has no object whose state encoders=state could give; "
                            "use camera encoders (see `wsa-robot encoders`)")
        super().check_options(task, options)

    def frames_options(self, seed: int, episode_length: int | None, dense: bool = True) -> EnvOptions:
        return EnvOptions(seed=seed)  # whole games, real frames (no life loss, no clipping); no dense labels

    def generate(self, rest: str) -> TaskSpec:
        """The reference setup of tasks/atari/Pong.yaml, renamed; its run defaults are the pixel baseline
        until `wsa-robot pretrain` trains encoders for the game."""
        game, games = rest, ale_games()
        if game not in games:
            lower = {g.lower(): g for g in games}
            close = [lower[g] for g in difflib.get_close_matches(game.lower(), lower, n=3, cutoff=0.6)]
            hint = f"did you mean {', '.join('atari/' + g for g in close)}?" if close else \
                f"ALE games are named like atari/Pong, atari/MsPacman ({len(games)} in ale-py)"
            raise UserError(f"unknown Atari game {game!r}; {hint}")
        data = yaml.safe_load((data_dir("tasks") / "atari" / f"{TEMPLATE_GAME}.yaml").read_text())
        data.update(name=f"atari/{game}", env_id=f"ALE/{game}-v5", description=f"{game} (ALE), reference PPO setup")
        config = data.setdefault("config", {})
        [screen] = data["cameras"]  # the one camera, the screen
        config.update(fusion="e2e", encoders=[own_encoder(game)], context=token_key(own_encoder(game), screen))
        return TaskSpec(**data)
