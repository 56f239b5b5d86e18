"""PNG plots: WSA weights over an episode (learning curves of many runs: engine/curves.py). Written atomically.

Importing this module chooses no matplotlib backend: `pyplot()` picks Agg (files only, no display) when the
first figure is drawn, so importing it has no effect on a process that shows plots of its own.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from wsa_robot.core.atomic import atomic_path

# Imports inside functions: matplotlib, with its backend chosen once, only when a plot is drawn.


@functools.cache
def pyplot():
    """matplotlib.pyplot on the Agg backend, chosen once, here."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    pyplot().close(fig)
    return path


def plot_weights(weights: np.ndarray, token_keys: list[str], path: Path, title: str = "") -> Path:
    """weights [T, K]: one line per token over the episode's steps."""
    fig, ax = pyplot().subplots(figsize=(8, 3.5))
    for k, key in enumerate(token_keys):
        ax.plot(np.arange(len(weights)), weights[:, k], label=key, linewidth=1.5)
    ax.set(xlabel="step", ylabel="WSA weight", ylim=(0, 1), title=title)
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)
