"""Aggregate a sweep's run dirs into one table: final eval return and success, mean ± std over seeds per cell.

Reads only run dirs (state.json, evals.json), so it works without Ray, while a sweep runs, or after it.
Only finished trials count toward a cell; the `done` column says how many of its trials that is.
return and success: the final eval; score: the mean return of the last `score_last` evals (less noisy)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from wsa_robot.core.atomic import write_text
from wsa_robot.engine.curves import Panel, Series, plot_curves
from wsa_robot.sweep.grid import Trial, label
from wsa_robot.core.tables import Col, fitted_table


@dataclass
class TrialResult:
    trial: Trial
    status: str
    steps: int
    evals: list[dict]               # one row per eval step (the last one wins if a resumed run repeated a step)

    @property
    def final(self) -> dict | None:
        """The last eval of a finished trial; None while it is unfinished or has no eval."""
        return self.evals[-1] if self.status == "done" and self.evals else None

    def value(self, metric: str, last: int = 3) -> float | None:
        """The final eval's return or success; `score`: the mean return of the last `last` evals."""
        if self.final is None:
            return None
        if metric == "score":
            return float(np.mean([row["mean_return"] for row in self.evals[-last:]]))
        value = self.final.get(metric)
        return None if value is None else float(value)


@dataclass
class Cell:
    id: str
    params: dict[str, Any]
    trials: list[TrialResult] = field(default_factory=list)

    @property
    def finished(self) -> list[TrialResult]:
        return [r for r in self.trials if r.final is not None]

    def stat(self, metric: str, last: int = 3) -> tuple[float, float] | None:
        """(mean, std over seeds) of a trial value (TrialResult.value); None without a finished trial or value."""
        values = [v for r in self.finished if (v := r.value(metric, last)) is not None]
        return (float(np.mean(values)), float(np.std(values))) if values else None


def collect(trials: list[Trial]) -> list[TrialResult]:
    out = []
    for t in trials:
        rows = {int(row["step"]): row for row in t.run.read_evals()} if t.run.evals_file.exists() else {}
        out.append(TrialResult(t, t.status(), t.steps_done(), [rows[s] for s in sorted(rows)]))
    return out


def cells(results: list[TrialResult]) -> list[Cell]:
    """Trials grouped by every grid key but seed, in grid order."""
    by_id: dict[str, Cell] = {}
    for r in results:
        params = {k: v for k, v in r.trial.params.items() if k != "seed"}
        by_id.setdefault(r.trial.cell, Cell(r.trial.cell, params)).trials.append(r)
    return list(by_id.values())


COLUMNS = {"mean_return": "return", "success_rate": "success", "score": "score"}


def _fmt(stat: tuple[float, float] | None) -> str:
    return "-" if stat is None else f"{stat[0]:.2f} ± {stat[1]:.2f}"


def _stats(c: Cell, last: int) -> dict[str, tuple[float, float] | None]:
    return {m: c.stat(m, last) for m in COLUMNS}


def _best(table: list[Cell], metric: str, last: int) -> set[str]:
    """Per task, the cell with the highest mean `metric`."""
    best: dict[str, tuple[float, str]] = {}
    for c in table:
        stat = c.stat(metric, last)
        task = c.trials[0].trial.cfg.task
        if stat is not None and (task not in best or stat[0] > best[task][0]):
            best[task] = (stat[0], c.id)
    return {cid for _, cid in best.values()}


def _keys(table: list[Cell]) -> list[str]:
    return list(table[0].params) if table else []


def write_csv(table: list[Cell], path: Path, last: int = 3) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    keys = _keys(table)
    w.writerow(keys + ["done", "trials", "total_steps"] + [f"{COLUMNS[m]}_{s}" for m in COLUMNS for s in ("mean", "std")])
    for c in table:
        stats = _stats(c, last)
        w.writerow([label(c.params[k]) for k in keys]
                   + [len(c.finished), len(c.trials), max(r.trial.cfg.total_steps for r in c.trials)]
                   + [x for m in COLUMNS for x in (("", "") if stats[m] is None else
                                                    (f"{stats[m][0]:.4f}", f"{stats[m][1]:.4f}"))])
    write_text(path, buf.getvalue())


def write_trials_csv(results: list[TrialResult], path: Path, last: int = 3) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["trial", "cell", "status", "steps_done", "total_steps", "final_return", "final_success", "score",
                "run_dir"])
    for r in results:
        vals = ["" if (v := r.value(m, last)) is None else f"{v:.4f}" for m in COLUMNS]
        w.writerow([r.trial.id, r.trial.cell, r.status, r.steps, r.trial.cfg.total_steps, *vals, r.trial.run.path])
    write_text(path, buf.getvalue())


def _cells_text(c: Cell, best: set[str], metric: str, last: int, bold: tuple[str, str]) -> list[str]:
    cols = {m: _fmt(s) for m, s in _stats(c, last).items()}
    if c.id in best:
        cols[metric] = f"{bold[0]}{cols[metric]}{bold[1]}"
    return [f"{len(c.finished)}/{len(c.trials)}"] + [cols[m] for m in COLUMNS]


def write_markdown(table: list[Cell], name: str, metric: str, path: Path, last: int = 3) -> None:
    keys, best = _keys(table), _best(table, metric, last)
    lines = [f"# Sweep {name}", "",
             "Deterministic evals of the finished trials; mean ± std (population) over seeds. return and success: "
             f"the final eval; score: the mean return of the last {last} evals. For games the return is the "
             f"unclipped score. **Bold**: the best cell of its task by {COLUMNS[metric]}.", "",
             "| " + " | ".join(keys + ["done"] + list(COLUMNS.values())) + " |",
             "|" + "---|" * (len(keys) + 1 + len(COLUMNS))]
    for c in table:
        lines.append("| " + " | ".join([label(c.params[k]) for k in keys]
                                      + _cells_text(c, best, metric, last, ("**", "**"))) + " |")
    write_text(path, "\n".join(lines) + "\n")


def plot_cell(cell: Cell, path: Path) -> Path | None:
    """Eval return (and success, when the task has it) over steps: mean over the finished seeds, shaded ± std
    (the engine's plot, engine/curves.py)."""
    runs = [[{"steps": int(row["step"]), "mean_return": row.get("mean_return"),
              "success_rate": row.get("success_rate")} for row in r.evals] for r in cell.finished]
    panels = [Panel("mean_return", f"eval {COLUMNS['mean_return']}"),
              Panel("success_rate", f"eval {COLUMNS['success_rate']}", ylim=(-0.05, 1.05))]
    n = len(cell.finished)
    return plot_curves([Series(cell.id, runs)], panels, path, spread="std", xlabel="environment steps",
                       panel_size=(5.5, 3.5), legend=None,
                       suptitle=f"{cell.id}  (mean ± std over {n} seed{'s' if n != 1 else ''})")


def rich_table(table: list[Cell], name: str, metric: str, last: int = 3, width: int | None = None) -> Table:
    """The summary for a terminal of `width` columns: the grid keys and `done` always, then the metric the
    sweep ranks by, then the other numbers while they fit (all of them are in summary.csv)."""
    keys, best = _keys(table), _best(table, metric, last)
    order = [metric] + [m for m in COLUMNS if m != metric]
    cols = [Col(k) for k in keys] + [Col("done", justify="right")]
    cols += [Col(COLUMNS[m], keep=1 + order.index(m), justify="right") for m in COLUMNS]
    rows = [[label(c.params[k]) for k in keys] + _cells_text(c, best, metric, last, ("[bold]", "[/bold]"))
            for c in table]
    return fitted_table(f"sweep {name}", cols, rows, width, more="summary.csv has them",
                        caption=f"final eval, mean ± std over seeds; score: mean return of the last {last} evals")


def report(trials: list[Trial], out_dir: Path, name: str, metric: str = "score", last: int = 3,
           console: Console | None = None) -> list[Cell]:
    """Write summary.csv, summary.md, trials.csv and curves/<cell>.png under out_dir; print the table."""
    results = collect(trials)
    table = cells(results)
    write_csv(table, out_dir / "summary.csv", last)
    write_markdown(table, name, metric, out_dir / "summary.md", last)
    write_trials_csv(results, out_dir / "trials.csv", last)
    for c in table:
        plot_cell(c, out_dir / "curves" / f"{c.id}.png")
    console = console or Console()
    console.print(rich_table(table, name, metric, last, console.width))
    console.print(f"wrote {out_dir}/summary.csv, summary.md, trials.csv and curves/")
    return table
