"""The README's table of robosuite tasks learned from a few demos (issue 35, item 4), made from the results files.

    python experiments/task_table.py configs/tables/tasks.yaml --readme README.md

Per task (the spec file holds each task's target, the results file and label of its camera agent and of its
PRIVILEGED state oracle, and the peers' published budgets): the demos used, how many seeds reached the target
within its step budget, the steps and wall time to it per seed (wall time of the run, evals included), the success
at the budget, and the oracle's steps to the target. Prints the markdown table; `--readme FILE` also puts it between
the file's `<!-- task-table:begin -->` and `<!-- task-table:end -->` lines.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

BEGIN, END = "<!-- task-table:begin -->", "<!-- task-table:end -->"
NOT_RUN = "not run"


@dataclass(frozen=True)
class Target:
    success: float
    demos: int
    steps: int
    seeds: int


@dataclass(frozen=True)
class SeedResult:
    seed: int
    demos: int | None
    steps_to_target: int | None  # the first eval at or above the target, within the budget
    wall_s_to_target: float | None
    success_at_budget: float | None  # the last eval at or before the budget
    steps_done: int


def seed_results(file: Path, label: str, target: Target) -> list[SeedResult]:
    """Each seed of `label` in a results file of the learn_lift.json schema; none if the file or label is absent."""
    if not file.is_file():
        return []
    out = []
    for run in json.loads(file.read_text())["runs"]:
        if run["label"] != label:
            continue
        curve = [p for p in run["curve"] if p["steps"] <= target.steps]
        hit = next((p for p in curve if p["success"] >= target.success), None)
        out.append(SeedResult(run["seed"], run.get("demos"), hit and hit["steps"], hit and hit["wall_s"],
                              curve[-1]["success"] if curve else None, run.get("steps_done", 0)))
    return sorted(out, key=lambda r: r.seed)


def _thousands(steps: int | None) -> str:
    return "-" if steps is None else f"{steps / 1000:g}k"


def _per_seed(results: list[SeedResult], cell) -> str:
    return ", ".join(cell(r) for r in results)


def row(entry: dict) -> list[str]:
    """One table row (a list of cells) for one task of the spec."""
    target = Target(**entry["target"])
    aim = (f"{target.success:g} in {_thousands(target.steps)}, <= {target.demos} demos, {target.seeds} "
           + ("seed" if target.seeds == 1 else "seeds"))
    camera = seed_results(Path(entry["camera"]["file"]), entry["camera"]["label"], target)
    oracle = seed_results(Path(entry["oracle"]["file"]), entry["oracle"]["label"], target) if "oracle" in entry else []
    if not camera:
        cells = [NOT_RUN, "-", "-", "-", "-"]
    else:
        reached = sum(r.steps_to_target is not None for r in camera)
        short = [r for r in camera if r.steps_done < target.steps and r.steps_to_target is None]
        demos = sorted({r.demos for r in camera if r.demos is not None})
        cells = [
            ", ".join(map(str, demos)) or "-",
            f"{reached} of {len(camera)}" + (f" ({len(short)} still training)" if short else ""),
            _per_seed(camera, lambda r: _thousands(r.steps_to_target)),
            _per_seed(camera, lambda r: "-" if r.wall_s_to_target is None else f"{r.wall_s_to_target / 60:.0f}"),
            _per_seed(camera, lambda r: "-" if r.success_at_budget is None else f"{r.success_at_budget:.2f}"),
        ]
    oracle_cell = _per_seed(oracle, lambda r: _thousands(r.steps_to_target)) if oracle else NOT_RUN
    return [entry["task"], aim, *cells, oracle_cell, entry.get("peers", "-")]


HEADER = ["task", "target", "demos", "seeds at target", "steps to target", "minutes to target",
          "success at budget", "oracle: steps to target", "peers' budgets (theirs)"]


def markdown(spec: dict) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row(entry)) + " |" for entry in spec["tasks"]]
    return "\n".join(lines)


def put_in(text: str, table: str) -> str:
    """`text` with `table` between its BEGIN and END lines (which must both be there)."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"the file has no '{BEGIN}' ... '{END}' lines to put the table between")
    head, rest = text.split(BEGIN, 1)
    return head + BEGIN + "\n" + table + "\n" + END + rest.split(END, 1)[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", type=Path, help="the tasks, their targets and results (configs/tables/tasks.yaml)")
    p.add_argument("--readme", type=Path, help="also write the table into this file between its markers")
    args = p.parse_args(argv)
    table = markdown(yaml.safe_load(args.spec.read_text()))
    print(table)
    if args.readme:
        try:
            args.readme.write_text(put_in(args.readme.read_text(), table))
        except ValueError as e:
            print(f"error: {args.readme}: {e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
