"""`wsa-robot sweep FILE`: validate every trial, run the unfinished ones on an executor of the engine (Ray by
default, which imports ray only when trials run; local child processes or in process), then write the report."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console

from wsa_robot.core.atomic import write_text
from wsa_robot.engine.executors import Stopped, check_executor, executor
from wsa_robot.studies.benchmark import target_rule
from wsa_robot.sweep.grid import check_trials, check_resumable, expand, sweep_dir
from wsa_robot.sweep.report import report
from wsa_robot.sweep.spec import load_sweep
from wsa_robot.core.tables import Col, fitted_table


def sweep_command(file: str, cpus: int | None = None, gpus: int | None = None, address: str | None = None,
                  out: Path | None = None, report_only: bool = False, dry_run: bool = False,
                  console: Console | None = None, executor_name: str = "ray", parallel: int = 1,
                  target: float | None = None, target_episodes: int = 30) -> int:
    """The exit code: 0 when every trial has finished, 1 when some failed or were stopped early. The trials
    train on the engine's executor `executor_name` (ray by default; local, inprocess or side-by-side on one machine),
    with the target-stop rule when `target` is given (local and side-by-side only: check_executor)."""
    console = console or Console()
    check_executor(executor_name, parallel, address, cpus, gpus, None if report_only or dry_run else target)
    spec, path = load_sweep(file)
    trials = expand(spec, path, out)  # every config validated before anything starts
    out_dir = sweep_dir(spec, out)
    if report_only:
        report(trials, out_dir, spec.name, spec.metric, spec.score_last, console)
        return 0
    check_trials(trials)
    check_resumable(trials)
    status = {t.id: t.status() for t in trials}
    counts = Counter(status.values())
    console.print(f"sweep {spec.name}: {len(trials)} trials in {out_dir}: {counts['done']} finished (skipped), "
                  f"{counts['partial']} to resume, {counts['new']} new", soft_wrap=True)
    if dry_run:
        rows = [[t.id, status[t.id], f"{t.steps_done()}/{t.cfg.total_steps}"] for t in trials]
        console.print(fitted_table(f"sweep {spec.name}", [Col("trial"), Col("status", keep=1),
                                                          Col("steps", keep=2, justify="right")], rows, console.width))
        return 0
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(out_dir / "sweep.yaml", path.read_text())  # what produced these run dirs
    todo = [t for t in trials if status[t.id] != "done"]
    failed: list[str] = []
    if todo:
        try:
            rule = None if target is None else target_rule(trials[0].cfg.task, target, target_episodes)
            runner = executor(executor_name, out_dir / "logs", out_dir, spec.resources, parallel, address, cpus, gpus,
                              rule=rule)
            runner.run([t.job() for t in todo], lambda line: console.print(line, soft_wrap=True, highlight=False))
        except Stopped as e:
            failed = e.lines
    report(trials, out_dir, spec.name, spec.metric, spec.score_last, console)
    for line in failed:
        console.print(f"[red]{line}[/red]")
    unfinished = [t for t in trials if t.status() != "done"]
    if unfinished:
        console.print(f"{len(unfinished)} of {len(trials)} trials unfinished; run the sweep again to resume them")
        return 1
    return 0
