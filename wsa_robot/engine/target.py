"""A bench run's target, as files in its run dir: the checks of periodic evals that reached the target, and
the mark of the one whose whole-game score held it (the run stops there and is never resumed).

A periodic eval is a few games (5 by default), so one can touch the target by luck; the bench then scores
the run's checkpoint over the final number of games and stops the run only if that score holds the target.
Each check is kept, passed or not, so a resumed bench does not repeat it and the results file shows it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from wsa_robot.core.atomic import write_json

TARGET_FILE = "bench_target.json"  # the check that held the target: the run stopped there
CHECKS_FILE = "bench_target_checks.json"  # every check, in order


def read_target(path: Path) -> dict | None:
    """The check that stopped the run at the target ({"eval_step", "eval_mean", "step", "mean_return", ...};
    files of older benches hold only the eval's "step", "mean_return" and "target"); None if none did."""
    file = path / TARGET_FILE
    return json.loads(file.read_text()) if file.exists() else None


def read_checks(path: Path) -> list[dict]:
    file = path / CHECKS_FILE
    return json.loads(file.read_text()) if file.exists() else []


def eval_to_check(path: Path, evals: list[dict], target: float) -> dict | None:
    """The run's latest periodic eval if it reached `target` and no check was made of it yet, else None."""
    if not evals or float(evals[-1]["mean_return"]) < target:
        return None
    step = int(evals[-1]["step"])
    return None if any(c["eval_step"] == step for c in read_checks(path)) else evals[-1]


def record_check(path: Path, row: dict, step: int, scores: list[float], stalled: int, target: float) -> dict:
    """Keep the check of eval `row` by `scores` (whole games from the checkpoint at `step`); if their mean
    holds `target`, mark the run as stopped at the target. Returns the check."""
    mean = float(np.mean(scores))
    check = {"eval_step": int(row["step"]), "eval_mean": float(row["mean_return"]), "step": int(step),
             "mean_return": round(mean, 2), "std": round(float(np.std(scores)), 2), "episodes": len(scores),
             "stalled_games": int(stalled), "target": target, "held": mean >= target,
             "scores": [round(float(x), 2) for x in scores]}
    write_json(path / CHECKS_FILE, read_checks(path) + [check])
    if check["held"]:
        write_json(path / TARGET_FILE, check)
    return check
