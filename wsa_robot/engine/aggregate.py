"""Aggregates over seeds as the field reports them (Agarwal et al., "Deep RL at the Edge of the Statistical
Precipice", NeurIPS 2021; the rliable library): the interquartile mean, with a percentile bootstrap confidence
interval over the runs. Used wherever a label has 3 or more seeds; with fewer, the runs are listed as they are."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.stats import trim_mean

MIN_SEEDS = 3
REPS = 2000  # bootstrap resamples
LEVEL = 0.95


def iqm(values: Sequence[float]) -> float:
    """The mean of the middle half (25% trimmed off each end, as rliable; at 3 or fewer runs nothing is
    trimmed and it is the mean)."""
    return float(trim_mean(np.asarray(values, float), 0.25))


def iqm_ci(values: Sequence[float], reps: int = REPS, level: float = LEVEL, seed: int = 0) -> dict | None:
    """{"iqm", "ci": [low, high], "runs", "reps", "level"}: runs resampled with replacement `reps` times, the
    interval the percentiles of their IQMs; None under MIN_SEEDS runs."""
    x = np.asarray(values, float)
    if len(x) < MIN_SEEDS:
        return None
    draws = np.random.default_rng(seed).integers(0, len(x), (reps, len(x)))
    stats = trim_mean(x[draws], 0.25, axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(stats, [tail, 100 - tail])
    return {"iqm": round(iqm(x), 4), "ci": [round(float(low), 4), round(float(high), 4)], "runs": len(x),
            "reps": reps, "level": level}
