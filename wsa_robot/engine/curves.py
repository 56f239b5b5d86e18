"""The one plot of many runs: per series (a label, a sweep cell, a bench run, a token) the mean over its runs at
each step with the spread over them shaded, in one panel per metric, against reference levels (a target, a
published score band). The learning plans, the sweep report, the bench and experiments draw with it.

Imports inside functions: matplotlib (through eval.plots), only when a plot is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

import numpy as np

Spread = Literal["minmax", "std"]


@dataclass
class Mark:
    """A point measured apart from the curve (e.g. a whole-game check of an eval), drawn with its error bar."""
    x: float
    y: float
    err: float = 0.0


@dataclass
class Series:
    """The runs (seeds) of one configuration: each a curve of rows {"steps": N, <metric>: value or None}."""
    name: str
    runs: list[list[dict]] = field(default_factory=list)
    dashed: bool = False
    colour: str | tuple | None = None  # None: the next of the panel's palette
    width: float = 1.5
    style: str | None = None  # a matplotlib line style; overrides `dashed`
    marker: str | None = "."
    marks: list[Mark] = field(default_factory=list)  # drawn in the series' colour, in the first panel
    marks_label: str | None = None  # the legend entry of the marks (give it on one series only)


@dataclass
class Reference:
    """A level to read the curves against: a line at `low`, or a band from `low` to `high`, named in the legend
    by `label`. `drawn` False names it in the legend only (a level far off the curves' scale would squeeze them)."""
    low: float
    high: float | None = None
    label: str | None = None
    colour: str = "grey"
    style: str = ":"
    drawn: bool = True


@dataclass
class Panel:
    key: str                  # the metric of the rows drawn in it
    ylabel: str
    title: str = ""
    ylim: tuple[float, float] | None = None
    hline: float | None = None  # a target, dotted
    references: list[Reference] = field(default_factory=list)


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


def _draw_reference(ax, ref: Reference) -> None:
    if not ref.drawn:
        ax.plot([], [], " ", color="none", label=ref.label)
    elif ref.high is None:
        ax.axhline(ref.low, color=ref.colour, linestyle=ref.style, linewidth=1, label=ref.label)
    else:
        ax.axhspan(ref.low, ref.high, color=ref.colour, alpha=0.15, label=ref.label)


def _legend(axes, where: str | None, each: bool) -> None:
    """`where` a matplotlib loc, or "below" (under the first panel, two columns: never on a curve)."""
    for ax in axes if each else axes[:1]:
        if not where or not ax.get_legend_handles_labels()[1]:
            continue
        if where == "below":
            ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
        else:
            ax.legend(fontsize=7, loc=where)


def plot_curves(series: list[Series], panels: list[Panel], path: Path, spread: Spread = "minmax",
                xlabel: str = "env steps", panel_size: tuple[float, float] = (6, 4.2), suptitle: str | None = None,
                legend: str | None = "center right", empty_panels: bool = False, legend_each_panel: bool = False,
                sharey: bool = False, xformat: Callable[[float, int], str] | None = None) -> Path | None:
    """One panel per metric that any run measured (every panel with `empty_panels`), a line per series with its
    spread over runs (when it has more than one), the panels' references; the legend on the first panel (on each
    with `legend_each_panel`) at `legend` (None: no legend). `xformat` labels the x ticks. None when no panel is
    drawn."""
    from wsa_robot.eval.plots import pyplot, save_figure

    shown = panels if empty_panels else \
        [p for p in panels if any(r.get(p.key) is not None for s in series for run in s.runs for r in run)]
    if not shown:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, len(shown), figsize=(panel_size[0] * len(shown), panel_size[1]), squeeze=False,
                             sharey=sharey)
    axes = list(axes[0])
    for ax, panel in zip(axes, shown):
        for ref in panel.references:
            _draw_reference(ax, ref)
    for s in series:
        for i, (ax, panel) in enumerate(zip(axes, shown)):
            x, mean, low, high = over_seeds(s.runs, panel.key, spread)
            if not len(x):
                continue
            line, = ax.plot(x, mean, s.style or ("--" if s.dashed else "-"), color=s.colour, linewidth=s.width,
                            marker=s.marker, label=s.name)
            if len(s.runs) > 1:
                ax.fill_between(x, low, high, color=line.get_color(), alpha=0.15)
            if s.marks and i == 0:
                ax.errorbar([m.x for m in s.marks], [m.y for m in s.marks], yerr=[m.err for m in s.marks], fmt="D",
                            markersize=5, color=line.get_color(), capsize=3, label=s.marks_label)
    for ax, panel in zip(axes, shown):
        if panel.hline is not None:
            ax.axhline(panel.hline, color="grey", linestyle=":", linewidth=1)
        ax.set(xlabel=xlabel, ylabel=panel.ylabel, title=panel.title)
        if panel.ylim:
            ax.set_ylim(*panel.ylim)
        if xformat:
            ax.xaxis.set_major_formatter(xformat)
        ax.grid(alpha=0.3)
    if any(s.runs for s in series):
        _legend(axes, legend, legend_each_panel)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
        fig.tight_layout()  # room for it above the panels' titles
    return save_figure(fig, path)
