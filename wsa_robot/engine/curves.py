"""The one plot of many runs: per series (a label, a sweep cell) the mean over its seeds at each eval step with
the spread over them shaded, in one panel per metric. The learning plans and the sweep report draw with it.

Imports inside functions: matplotlib (through eval.plots), only when a plot is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

Spread = Literal["minmax", "std"]


@dataclass
class Series:
    """The runs (seeds) of one configuration: each a curve of rows {"steps": N, <metric>: value or None}."""
    name: str
    runs: list[list[dict]] = field(default_factory=list)
    dashed: bool = False
    colour: str | tuple | None = None  # None: the next of the plot's palette
    width: float = 1.5


@dataclass
class Panel:
    key: str                  # the metric of the rows drawn in it
    ylabel: str
    title: str = ""
    ylim: tuple[float, float] | None = None
    hline: float | None = None  # a target, dotted


def over_seeds(runs: list[list[dict]], key: str, spread: Spread = "minmax"
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """steps, mean, low, high of `key` over the runs that measured it at each step (min-max, or mean ± std)."""
    steps = sorted({int(p["steps"]) for run in runs for p in run})
    per_step = [[p[key] for run in runs for p in run if p["steps"] == s and p.get(key) is not None] for s in steps]
    kept = [(s, v) for s, v in zip(steps, per_step) if v]
    x = np.array([s for s, _ in kept])
    mean = np.array([np.mean(v) for _, v in kept])
    if spread == "std":
        std = np.array([np.std(v) for _, v in kept])
        return x, mean, mean - std, mean + std
    return x, mean, np.array([min(v) for _, v in kept]), np.array([max(v) for _, v in kept])


def plot_curves(series: list[Series], panels: list[Panel], path: Path, spread: Spread = "minmax",
                xlabel: str = "env steps", panel_size: tuple[float, float] = (6, 4.2), suptitle: str | None = None,
                legend: str | None = "center right", empty_panels: bool = False) -> Path | None:
    """One panel per metric that any run measured (every panel with `empty_panels`), a line per series with its
    spread over seeds (when it has more than one); the legend on the first panel at `legend` (None: no legend).
    None when no panel is drawn."""
    from wsa_robot.eval.plots import pyplot, save_figure

    shown = panels if empty_panels else \
        [p for p in panels if any(r.get(p.key) is not None for s in series for run in s.runs for r in run)]
    if not shown:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, len(shown), figsize=(panel_size[0] * len(shown), panel_size[1]), squeeze=False)
    axes = axes[0]
    for s in series:
        for ax, panel in zip(axes, shown):
            x, mean, low, high = over_seeds(s.runs, panel.key, spread)
            if not len(x):
                continue
            line, = ax.plot(x, mean, "--" if s.dashed else "-", color=s.colour, linewidth=s.width, marker=".",
                            label=s.name)
            if len(s.runs) > 1:
                ax.fill_between(x, low, high, color=line.get_color(), alpha=0.15)
    for ax, panel in zip(axes, shown):
        if panel.hline is not None:
            ax.axhline(panel.hline, color="grey", linestyle=":", linewidth=1)
        ax.set(xlabel=xlabel, ylabel=panel.ylabel, title=panel.title)
        if panel.ylim:
            ax.set_ylim(*panel.ylim)
        ax.grid(alpha=0.3)
    if legend and any(s.runs for s in series):
        axes[0].legend(fontsize=7, loc=legend)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return save_figure(fig, path)
