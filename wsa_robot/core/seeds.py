"""The seed streams of a run, each a function of the run's seed, decided here once.

Env i of a stream is seeded stream + i (pipeline.make_vec_env), so streams 10 000 apart never share an env
seed for any sensible number of envs: an agent is never evaluated on the episodes it trained on, and the
`eval` command, the periodic evals and the bench score each see their own episodes.
"""

from __future__ import annotations


def training_seed(seed: int) -> int:
    """The envs the agent learns from."""
    return seed


def periodic_eval_seed(seed: int) -> int:
    """The eval env `train` runs every `eval_every` steps."""
    return seed + 10_000


def eval_seed(seed: int) -> int:
    """`wsa-robot eval` and the evaluations built on it (faults, variations, scripts that score a run)."""
    return seed + 20_000


def bench_seed(seed: int) -> int:
    """The bench's target checks: whole games from the checkpoint of a run whose periodic eval reached the target."""
    return seed + 30_000


def final_seed(seed: int) -> int:
    """The bench's final score of a trained run: fresh games, never the ones a target check stopped it on."""
    return seed + 50_000


def demo_seed(seed: int) -> int:
    """`wsa-robot demos record`: the scripted controller's episodes (attempt k is this + k)."""
    return seed + 40_000
