"""The algorithm's own config section and the checks on it; what each algorithm is lives in core/algo_facts.py.

A light module (config and errors only): `spec.resolve` asks it before any env starts, and the agents layer
(agents/), which builds the stable-baselines3 models, sits above the pipeline.
"""

from __future__ import annotations

from wsa_robot.config import PPOConfig, RunConfig, SACConfig
from wsa_robot.core.algo_facts import ALGO_FACTS, Algo, off_policy  # noqa: F401  (the agents layer's names)
from wsa_robot.core.errors import UserError


def algo_settings(cfg: RunConfig) -> SACConfig | PPOConfig:
    """The run's algorithm's own section of the config (`sac.*` or `ppo.*`)."""
    return getattr(cfg, cfg.algo)


def check_replay(cfg: RunConfig, goal: bool) -> None:
    """n-step returns are not combined with HER's relabelling (spec.resolve asks before any env starts)."""
    if off_policy(cfg.algo) and cfg.sac.n_steps > 1 and goal:
        raise UserError(f"sac.n_steps={cfg.sac.n_steps}: n-step returns are not supported with HER (task "
                        f"{cfg.task} is goal-conditioned and learns with HER); drop sac.n_steps")
