"""How long recording a demo takes for each task with a scripted controller (issue 35: "a demo of Stack in
seconds"): `wsa-robot demos record`'s own code, -n demos per task, each task's default config; writes
results/demos_record.json (seconds per demo, steps per demo, tries) with provenance.

    python benchmarks/time_demos.py -n 5
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from wsa_robot.core.atomic import write_json
from wsa_robot.config import load_config
from wsa_robot.demos.record import record
from wsa_robot.core.provenance import provenance
from wsa_robot.envs.tasks import load_task

TASKS = ("Lift", "Stack", "Door", "PickPlaceCan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=5, help="demos per task")
    parser.add_argument("--out", type=Path, default=Path("results/demos_record.json"))
    args = parser.parse_args()
    prov = provenance()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for task in TASKS:
            done = record(load_config([f"task={task}"]), load_task(task), args.n, Path(tmp) / f"{task}.hdf5")
            steps = [e.length for e in done.episodes]
            rows.append({"task": task, "demos": args.n, "tries": done.attempts, "seconds": round(done.seconds, 1),
                         "seconds_per_demo": round(done.seconds / args.n, 2), "steps_per_demo": steps,
                         "mean_return": round(float(np.mean([e.rewards.sum() for e in done.episodes])), 2),
                         "file_mb": round((Path(tmp) / f"{task}.hdf5").stat().st_size / 1e6, 2)})
            print(f"{task}: {rows[-1]['seconds_per_demo']} s a demo, {np.mean(steps):.0f} steps, "
                  f"{done.attempts} tries for {args.n}")
    write_json(args.out, {"rows": rows, "provenance": prov})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
