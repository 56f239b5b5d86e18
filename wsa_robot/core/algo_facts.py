"""What each learning algorithm is, decided here once: the facts the rest of the code branches on.

Data only, at the bottom of the floor plan: the config validates `algo` against ALGO_FACTS, `spec.resolve` asks it
before any env starts, and the agents layer (agents/), which builds the stable-baselines3 models, reads it too.
"""

from __future__ import annotations

from dataclasses import dataclass


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
