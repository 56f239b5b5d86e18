"""What each learning algorithm is, decided here once: the facts the rest of the code branches on.

A light module (config and errors only): `spec.resolve` asks it before any env starts, and the agents layer
(agents/), which builds the stable-baselines3 models, sits above the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

from wsa_robot.config import PPOConfig, RunConfig, SACConfig
from wsa_robot.core.errors import UserError


@dataclass(frozen=True)
class Algo:
    name: str
    # learns from a replay buffer: HER on goal tasks, n-step returns from the buffer, the buffer saved and grown
    # on resume, updates overlapped with env steps (agents/overlap.py)
    off_policy: bool
    log_interval: int  # SB3's learn(log_interval=): episodes for an off-policy algorithm, rollouts otherwise


ALGO_FACTS: dict[str, Algo] = {"sac": Algo("sac", off_policy=True, log_interval=4),
                               "ppo": Algo("ppo", off_policy=False, log_interval=1)}


def off_policy(algo: str) -> bool:
    return ALGO_FACTS[algo].off_policy


def algo_settings(cfg: RunConfig) -> SACConfig | PPOConfig:
    """The run's algorithm's own section of the config (`sac.*` or `ppo.*`)."""
    return getattr(cfg, cfg.algo)


def check_replay(cfg: RunConfig, goal: bool) -> None:
    """n-step returns are not combined with HER's relabelling (spec.resolve asks before any env starts)."""
    if off_policy(cfg.algo) and cfg.sac.n_steps > 1 and goal:
        raise UserError(f"sac.n_steps={cfg.sac.n_steps}: n-step returns are not supported with HER (task "
                        f"{cfg.task} is goal-conditioned and learns with HER); drop sac.n_steps")
