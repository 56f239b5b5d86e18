"""`wsa-robot runs [DIR]`: every run dir under runs/ (or DIR) in one table, the most recently active first;
`--json` for scripts. Reads only the run dirs' files; a broken run is a row saying so, not an exit."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.table import Table

from wsa_robot.core.errors import UserError
from wsa_robot.run.run_dir import RunDir
from wsa_robot.core.tables import Col, fitted_table


@dataclass
class RunRow:
    run: str
    task: str | None = None
    algo: str | None = None
    fusion: str | None = None
    encoders: list[str] = field(default_factory=list)
    seed: int | None = None
    steps: int = 0
    total_steps: int | None = None
    finished: bool = False
    eval_step: int | None = None
    eval_return: float | None = None
    eval_success: float | None = None
    wall_s: float | None = None
    updated: float = 0.0  # newest modification time of the run's files (epoch seconds)
    error: str | None = None


def _updated(run: RunDir) -> float:
    files = (run.config_file, run.state_file, run.evals_file, run.model_file)
    return max(f.stat().st_mtime for f in files if f.exists())


def read_run(run: RunDir) -> RunRow:
    """One run's row; a broken file leaves the row with `error` set (the UserError's message)."""
    row = RunRow(str(run.path), updated=_updated(run))
    try:
        cfg = run.read_config()
        row.task, row.algo, row.fusion, row.encoders = cfg.task, cfg.algo, cfg.fusion, list(cfg.encoders)
        row.seed, row.total_steps = cfg.seed, cfg.total_steps
        row.steps = run.checkpoint_step() or 0
        row.finished = row.steps >= cfg.total_steps
        evals = run.read_evals()
        if evals:
            last = evals[-1]
            row.eval_step, row.eval_return = int(last["step"]), float(last["mean_return"])
            row.eval_success = None if last.get("success_rate") is None else float(last["success_rate"])
        row.wall_s = run.wall_s()
    except UserError as e:
        row.error = str(e)
    return row


def collect_runs(root: Path) -> list[RunRow]:
    """Every folder under `root` (itself included) holding a config.yaml, most recently active first."""
    if not root.is_dir():
        raise UserError(f"{root}: no such folder; pass a folder that holds run dirs (default runs/)")
    rows = [read_run(RunDir(config.parent)) for config in root.glob("**/config.yaml")]
    return sorted(rows, key=lambda r: r.updated, reverse=True)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    return f"{s // 3600}h{s // 60 % 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def _shown(path: str, root: Path) -> str:
    try:
        rel = Path(path).relative_to(root)
    except ValueError:
        return path
    return str(rel) if str(rel) != "." else path


def runs_table(rows: list[RunRow], root: Path, width: int | None = None) -> Table:
    """`width`: the terminal's columns (None: every column). Kept longest: the run, its steps, last eval."""
    cols = [Col("run"), Col("task", keep=5), Col("algo", keep=8), Col("fusion", keep=6),
            Col("encoders", keep=7, wrap=True), Col("seed", keep=9, justify="right"),
            Col("steps", keep=1, justify="right"), Col("return", keep=2, justify="right"),
            Col("success", keep=3, justify="right"), Col("wall", keep=10, justify="right"), Col("done", keep=4)]
    cells, broken = [], []
    for r in rows:
        if r.error:
            broken.append(r.error)
            cells.append([_shown(r.run, root)] + ["-"] * 9 + ["[red]broken"])
            continue
        cells.append([_shown(r.run, root), r.task or "-", r.algo or "-", r.fusion or "-", ", ".join(r.encoders),
                      str(r.seed), f"{r.steps}/{r.total_steps}",
                      "-" if r.eval_return is None else f"{r.eval_return:.2f}",
                      "-" if r.eval_success is None else f"{r.eval_success:.0%}",
                      _duration(r.wall_s), "yes" if r.finished else "no"])
    caption = "return, success: the last periodic eval (deterministic episodes); newest activity first"
    if broken:
        caption += "\n" + "\n".join(f"broken: {e}" for e in broken)
    return fitted_table(f"runs in {root}", cols, cells, width, caption)


def runs_json(rows: list[RunRow]) -> list[dict]:
    return [{**asdict(r), "updated": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(r.updated))} for r in rows]
