"""Keep the final policies of runs whose numbers a results file publishes: copy each run dir's config.yaml,
evals.json and its last checkpoint's model.zip and state.json (no replay buffer, no demos file, no TensorBoard)
to results/agents/<group>/<run name>/, a folder `wsa-robot eval` accepts, so any table can be remade without
retraining.

    python scripts/keep_agents.py --group learn_lift_demos /work/runs/learn_lift_demos/demos5-seed*
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

KEPT = ("config.yaml", "evals.json", "checkpoints/model.zip", "checkpoints/state.json")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run dirs")
    parser.add_argument("--group", required=True, help="the folder under --root, e.g. the results file's name")
    parser.add_argument("--root", type=Path, default=Path("results/agents"))
    args = parser.parse_args()
    for run in args.runs:
        missing = [name for name in KEPT if not (run / name).is_file()]
        if missing:
            print(f"error: {run} has no {missing[0]}; is it a finished run dir?")
            return 2
        dest = args.root / args.group / run.name
        for name in KEPT:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(run / name, dest / name)
        print(f"kept {run} -> {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
