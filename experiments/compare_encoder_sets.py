"""A short learn check per encoder set, to pick the default encoders by measurement.

    python experiments/compare_encoder_sets.py                          # the default sets, 2 runs at a time
    python experiments/compare_encoder_sets.py --sets ae ae,seg --steps 10000 --parallel 2
    python experiments/compare_encoder_sets.py --report-only             # aggregate what runs/encoder_sets/ holds

Each set is one run of the engine (engine/: `wsa-robot train` in a child process, WSA-SAC on Lift, one seed,
torch on one thread so that two runs share the 2 cores) in runs/encoder_sets/<set>/, its log beside it, with
its own results/encoder_sets/<set>.json written from the run dir. Stopped early, a run resumes where it stopped
when this is started again (a larger --steps extends it). For a new comparison, the plan configs/encoder_sets.yaml
does the same through `wsa-robot plan` (curves with spread over seeds, the learning plans' results file).
The summary score of a set is its mean deterministic eval return over the last `--last` evaluations (the
curve is noisy at this budget: one eval is 5 episodes of one seed).

Writes results/encoder_sets_lift.json (atomically) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from wsa_robot.core.atomic import write_json
from wsa_robot.core.provenance import provenance
from wsa_robot.engine.executors import Local, Stopped, start
from wsa_robot.engine.jobs import Job
from wsa_robot.engine.plan import Schedule
from wsa_robot.run.run_dir import RunDir

DEFAULT_SETS = ["ae", "ae,seg", "ae,depth_rgb", "ae,tcn", "ae,kp", "ae,seg,depth_rgb,tcn,kp"]
OUT_DIR = Path("results/encoder_sets")
RUNS = Path("runs/encoder_sets")


def slug(spec: str) -> str:
    return spec.replace(",", "+")


def job(spec: str, args: argparse.Namespace) -> Job:
    """The set's run as an engine job, with the settings experiments/learn_check.py gave it."""
    schedule = Schedule(args.steps, args.eval_every, args.eval_episodes)
    return Job(slug(spec), RUNS / slug(spec), args.steps, ("task=Lift", *schedule.overrides(), f"encoders={spec}",
                                                           "torch_threads=1", f"seed={args.seed}", *args.overrides))


def record(spec: str, prov: dict) -> None:
    """results/encoder_sets/<set>.json from the set's run dir, as experiments/learn_check.py wrote it; a set whose run
    dir is not here keeps the file it has."""
    run = RunDir(RUNS / slug(spec))
    if not run.config_file.exists():
        return
    cfg, evals = run.read_config(), run.read_evals()
    out = OUT_DIR / f"{slug(spec)}.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    results[cfg.task] = {"steps": [e["step"] for e in evals], "success_rate": [e["success_rate"] for e in evals],
                         "return": [e["mean_return"] for e in evals], "wall_s": run.wall_s(),
                         "total_steps": cfg.total_steps, "steps_done": run.checkpoint_step() or 0,
                         "eval_episodes": cfg.eval_episodes, "config": cfg.model_dump(), "provenance": prov}
    results["provenance"] = prov
    write_json(out, results)


def run_all(sets: list[str], args: argparse.Namespace, prov: dict) -> None:
    """The sets' runs, at most `parallel` at once (each logs to runs/encoder_sets/<set>.log); then their files."""
    try:
        start([job(spec, args) for spec in sets], Local(RUNS, args.parallel))
    except Stopped as e:
        for line in e.lines:
            print(f"stopped: {line}", file=sys.stderr)
    for spec in sets:
        record(spec, prov)


def aggregate(sets: list[str], last: int) -> dict:
    rows = {}
    for spec in sets:
        path = OUT_DIR / f"{slug(spec)}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        curve = data["Lift"]
        returns = curve["return"]
        cfg = curve.get("config", {})
        rows[spec] = {"budget_steps": cfg.get("total_steps", curve.get("total_steps")),
                      "eval_every": cfg.get("eval_every"), "eval_episodes": curve.get("eval_episodes"),
                      "provenance": curve.get("provenance", data.get("provenance", "unknown")),
                      "steps": curve["steps"], "return": returns, "success_rate": curve["success_rate"],
                      "steps_done": curve["steps_done"], "wall_s": curve["wall_s"],
                      "score_last_mean_return": round(float(np.mean(returns[-last:])), 3) if returns else None,
                      "best_success_rate": max(curve["success_rate"]) if curve["success_rate"] else None}
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="*", default=DEFAULT_SETS)
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--eval-every", type=int, default=2500)
    p.add_argument("--eval-episodes", type=int, default=5)
    p.add_argument("--parallel", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--last", type=int, default=2, help="evals averaged into a set's score")
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--out", type=Path, default=Path("results/encoder_sets_lift.json"))
    p.add_argument("overrides", nargs="*", help="key=value for every run")
    args = p.parse_args()
    prov = provenance()
    if not args.report_only:
        run_all(args.sets, args, prov)
    rows = aggregate(args.sets, args.last)

    def common(key: str):
        """A setting as the runs recorded it (not this command's defaults: --report-only trains nothing)."""
        values = {row[key] for row in rows.values()}
        return values.pop() if len(values) == 1 else sorted(values, key=str) or None

    write_json(args.out, {"provenance": prov, "task": "Lift", "algo": "sac", "fusion": "wsa", "seed": args.seed,
                          "budget_steps": common("budget_steps"), "eval_every": common("eval_every"),
                          "eval_episodes": common("eval_episodes"),
                          "score": f"mean eval return of the last {args.last} evals", "sets": rows})
    for spec, row in sorted(rows.items(), key=lambda kv: -(kv[1]["score_last_mean_return"] or 0)):
        curve = " ".join(f"{r:.1f}" for r in row["return"])
        print(f"{spec:<28} score {row['score_last_mean_return']}  best success {row['best_success_rate']}  "
              f"steps {row['steps_done']}  curve {curve}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
