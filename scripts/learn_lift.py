"""Learning curves on Lift (issue 16): labelled configurations from a plan file, one run at a time, each an
ordinary run dir under --runs-root, 20 deterministic eval episodes every --eval-every steps (the run's own
periodic eval); writes results/learn_lift.json and results/learn_lift.png (success against steps, mean and
min-max over seeds per label, the privileged state oracle dashed).

    python scripts/learn_lift.py --runs-root runs/learn_lift --steps 200000 --eval-every 10000
    python scripts/learn_lift.py --runs-root runs/learn_lift --steps 200000 --eval-every 10000 --only oracle-n3
    python scripts/learn_lift.py --runs-root runs/learn_lift --steps 200000 --eval-every 10000 --report-only

Stopped (Ctrl-C, SIGTERM, a reboot), it checkpoints; the same command again resumes the unfinished run and
skips the finished ones. A plan run whose dir is not under --runs-root (a new machine) keeps its row from the
earlier --out file, stamped with the date and commit it was measured at. Trailing key=value overrides go to
every run (under each plan entry's own), e.g. torch_threads=1. The JSON: {"task", "target_success", "runs":
[{"label", "fusion", "encoders", "seed", "default", "privileged", "curve": [{"steps", "success", "return",
"episodes", "wall_s"}], "config", "steps_to_0.8", "wall_s_to_0.8", ...}], "summary": {label: ...},
"provenance": {...}}. "default": the run learns with `wsa-robot train --task Lift`'s config as it is now (seed
and eval schedule aside).

It is `wsa-robot plan PLAN --runs-root DIR --steps N ...` (the engine, engine/) with this script's defaults,
kept for the command lines that running jobs and the results' records use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wsa_robot.core.errors import UserError
from wsa_robot.engine.executors import Local
from wsa_robot.engine.plan import Schedule
from wsa_robot.studies.learning import learn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plan", type=Path, default=Path("configs/learn_lift.yaml"),
                        help="the labelled configurations (task, runs: label, fusion, encoders, seeds, overrides)")
    parser.add_argument("--runs-root", type=Path, required=True, help="where the run dirs go, one per label and seed")
    parser.add_argument("--steps", type=int, default=200_000, help="env steps per run")
    parser.add_argument("--eval-every", type=int, default=10_000, help="env steps between evals (and checkpoints)")
    parser.add_argument("--eval-episodes", type=int, default=20, help="deterministic episodes per eval")
    parser.add_argument("--only", action="append", help="train only this label (repeatable); the report has all")
    parser.add_argument("--out", type=Path, default=Path("results/learn_lift.json"))
    parser.add_argument("--report-only", action="store_true", help="write the JSON and PNG from the run dirs as they are")
    parser.add_argument("overrides", nargs="*", help="key=value for every run, e.g. torch_threads=1")
    args = parser.parse_args()
    try:
        return learn(args.plan, args.runs_root, Schedule(args.steps, args.eval_every, args.eval_episodes), args.out,
                     args.overrides, None if args.report_only else Local(args.runs_root / "logs"), args.only)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
