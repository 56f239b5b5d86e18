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
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wsa_robot.core.errors import UserError
from wsa_robot.studies.learning import Stopped, check_configs, read_plan, report, train_plan
from wsa_robot.core.provenance import provenance


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
    prov = provenance()  # at the start: the load average the runs began under
    code = 0
    try:
        plan = read_plan(args.plan)
        if not args.report_only:
            to_train = read_plan(args.plan, args.only) if args.only else plan
            check_configs(to_train, args.steps, args.eval_every, args.eval_episodes, args.overrides)
            try:
                train_plan(to_train, args.runs_root, args.steps, args.eval_every, args.eval_episodes, args.overrides)
            except Stopped as e:
                print(f"stopped: {e}", file=sys.stderr)
                code = 1
        result = report(plan, args.runs_root, args.out, prov)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for label, s in result["summary"].items():
        steps = s["steps_to_0.8"]
        print(f"{label:>24}: {s['reached']}/{len(steps)} seeds reached 0.8 at {steps}"
              f"{'  (privileged)' if s['privileged'] else ''}{'  (default)' if s['default'] else ''}")
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return code


if __name__ == "__main__":
    sys.exit(main())
