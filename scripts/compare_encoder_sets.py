"""A short learn check per encoder set, to pick the default encoders by measurement.

    python scripts/compare_encoder_sets.py                          # the default sets, 2 runs at a time
    python scripts/compare_encoder_sets.py --sets ae ae,seg --steps 10000 --parallel 2
    python scripts/compare_encoder_sets.py --report-only             # aggregate what runs/encoder_sets/ holds

Each set is one `scripts/learn_check.py` run (WSA-SAC on Lift through the same `train()` as `wsa-robot train`,
one seed, torch on one thread so that two runs share the 2 cores) in runs/encoder_sets/<set>/, with its own
results/encoder_sets/<set>.json. Stopped early, a run resumes where it stopped when this is started again.
The summary score of a set is its mean deterministic eval return over the last `--last` evaluations (the
curve is noisy at this budget: one eval is 5 episodes of one seed).

Writes results/encoder_sets_lift.json (atomically) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from wsa_robot.core.atomic import write_json
from wsa_robot.core.provenance import provenance

DEFAULT_SETS = ["ae", "ae,seg", "ae,depth_rgb", "ae,tcn", "ae,kp", "ae,seg,depth_rgb,tcn,kp"]
OUT_DIR = Path("results/encoder_sets")
RUNS = Path("runs/encoder_sets")


def slug(spec: str) -> str:
    return spec.replace(",", "+")


def command(spec: str, args: argparse.Namespace) -> list[str]:
    return [sys.executable, "scripts/learn_check.py", "--steps", str(args.steps), "--eval-every",
            str(args.eval_every), "--eval-episodes", str(args.eval_episodes), "--run-dir", str(RUNS / slug(spec)),
            "--out", str(OUT_DIR / f"{slug(spec)}.json"), f"encoders={spec}", "torch_threads=1",
            f"seed={args.seed}", *args.overrides]


def run_all(sets: list[str], args: argparse.Namespace) -> None:
    """At most `parallel` learn checks at once; each logs to runs/encoder_sets/<set>.log."""
    RUNS.mkdir(parents=True, exist_ok=True)
    pending, running = list(sets), []
    while pending or running:
        while pending and len(running) < args.parallel:
            spec = pending.pop(0)
            log = open(RUNS / f"{slug(spec)}.log", "a")
            running.append((spec, subprocess.Popen(command(spec, args), stdout=log, stderr=subprocess.STDOUT), log))
            print(f"started {spec}", flush=True)
        time.sleep(5)
        for item in [r for r in running if r[1].poll() is not None]:
            spec, proc, log = item
            log.close()
            running.remove(item)
            print(f"finished {spec} (exit {proc.returncode})", flush=True)


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
        run_all(args.sets, args)
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
