"""The target-stop rule, an option of the executors that watch a run's evals while it trains (side_by_side.py,
executors.Local: `wsa-robot bench/plan/sweep --target`): a run whose periodic eval reaches a score is stopped and
checked, and done there for good if the check holds. Its state is files in the run
dir: the checks of periodic evals that reached the target, and the mark of the one whose whole-episode score held
it (the run stops there and is never resumed).

A periodic eval is a few episodes (5 by default), so one can touch the target by luck; the rule then scores the
run's checkpoint over more whole episodes (the bench's final number of games) and stops the run only if that
score holds the target. Each check is kept, passed or not, so a resumed job does not repeat it and the results
file shows it. The file names keep the bench's prefix: run dirs written before the rule moved here read the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from wsa_robot.core.atomic import write_json
from wsa_robot.run.run_dir import RunDir

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


Score = Callable[[Path, int], tuple[list[float], int]]  # (scores, stalled episodes) of N whole episodes of a run


@dataclass
class TargetStop:
    """Stop a run once whole episodes hold `target`: a periodic eval that reaches it is `due` (the executor stops
    the run: a checkpoint), `check` scores `episodes` whole episodes from that checkpoint with `score` and keeps
    the check, and a run whose check held is `met`: done, never resumed. `unit` names an episode in what it says
    ("game" for Atari)."""
    target: float
    episodes: int
    score: Score
    unit: str = "episode"
    what: str = "the target"  # the executor's words for a run stopped by this rule

    def met(self, path: Path) -> bool:
        return read_target(path) is not None

    def due(self, path: Path, evals: list[dict]) -> bool:
        return eval_to_check(path, evals, self.target) is not None

    def check(self, path: Path, evals: list[dict], say: Callable[[str], None]) -> bool:
        """If the run's latest eval reached the target and was not checked yet, score `episodes` whole episodes
        from its checkpoint (the run must be stopped) and keep the check; True if that held the target."""
        row = eval_to_check(path, evals, self.target)
        if row is None:
            return False
        step = RunDir(path).checkpoint_step() or 0
        say(f"{path.name}: eval {float(row['mean_return']):+.1f} at the target; scoring {self.episodes} "
            f"{self.unit}s at step {step:,}")
        scores, stalled = self.score(path, self.episodes)
        check = record_check(path, row, step, scores, stalled, self.target)
        say(f"{path.name}: {check['episodes']} {self.unit}s: {check['mean_return']:+.1f} ± {check['std']:.1f}" +
            (", the target holds" if check["held"] else f", under {self.target:g}; training on"))
        return check["held"]

    def settle(self, path: Path, say: Callable[[str], None]) -> None:
        """Before a run starts: an eval at the target that a stop left unchecked (or that an older bench never
        checked) is checked now. Evals past the checkpoint do not count: a kill lost their steps, and the resume
        drops them."""
        run = RunDir(path)
        saved = run.checkpoint_step()
        if saved is not None and not self.met(path):
            self.check(path, [r for r in run.read_evals() if r["step"] <= saved], say)
