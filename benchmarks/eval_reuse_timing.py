"""Wall and CPU time of experiments/faults_eval.py before and after one agent and one env serve every condition.

    python benchmarks/eval_reuse_timing.py --run runs/tiny --before main --episodes 2 --rounds 1

"before" runs faults_eval.py from `git archive BEFORE` (each condition built its envs, loaded its encoders and
its agent), "after" from this working tree (eval/conditions.py Evaluator: once for all conditions), one right
after the other with the same run and settings, alternating for `--rounds`. Both must report the same returns:
the reuse changes how long an evaluation takes, never what it measures. Wall and CPU seconds are both
recorded: on a machine shared with other jobs the wall time varies by tens of percent between identical runs.

Writes results/eval_reuse_timing.json (atomically).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from wsa_robot.core.atomic import write_json
from wsa_robot.core.provenance import provenance

ROOT = Path(__file__).resolve().parent.parent


def source_tree(ref: str, into: Path) -> Path:
    """The package and scripts as they were at `ref` (git archive), to run with PYTHONPATH pointing there."""
    archive = into / "src.tar"
    with archive.open("wb") as f:
        subprocess.run(["git", "-C", str(ROOT), "archive", ref], stdout=f, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "src", filter="data")
    return into / "src"


def timed_faults_eval(tree: Path, run: Path, episodes: int, out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("MUJOCO_GL", None)  # the package chooses the GL backend itself
    load = os.getloadavg()[0]
    cpu0 = _children_cpu_s()
    t0 = time.perf_counter()
    script = next(p for p in (tree / "experiments" / "faults_eval.py", tree / "scripts" / "faults_eval.py") if p.exists())
    subprocess.run([sys.executable, str(script), "--run", f"run={run}",
                    "--episodes", str(episodes), "--out", str(out)], cwd=tree, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    cpu = _children_cpu_s() - cpu0
    conditions = json.loads(out.read_text())["runs"]["run"]["conditions"]
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "load_avg_1m_at_start": round(load, 2), "conditions": len(conditions),
            "mean_returns": {name: c["mean_return"] for name, c in conditions.items()}}


def _children_cpu_s() -> float:
    """CPU seconds (user + system) of the finished child processes: less at the mercy of a loaded machine
    than the wall time, which another job's share of the cores stretches."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, required=True, help="a trained run dir (a tiny one will do)")
    p.add_argument("--before", default="main", help="git ref of the code before")
    p.add_argument("--episodes", type=int, default=2)
    p.add_argument("--rounds", type=int, default=1, help="before/after pairs, run back to back")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "eval_reuse_timing.json")
    args = p.parse_args()
    report = {"provenance": provenance(), "run": str(args.run), "episodes": args.episodes,
              "horizon": _horizon(args.run), "before_ref": args.before,
              "before_commit": subprocess.run(["git", "-C", str(ROOT), "rev-parse", args.before], text=True,
                                              capture_output=True, check=True).stdout.strip(),
              "rounds": []}
    with tempfile.TemporaryDirectory() as tmp:
        before_tree = source_tree(args.before, Path(tmp))
        for i in range(args.rounds):
            row = {"before": timed_faults_eval(before_tree, args.run.resolve(), args.episodes, Path(tmp) / f"b{i}.json"),
                   "after": timed_faults_eval(ROOT, args.run.resolve(), args.episodes, Path(tmp) / f"a{i}.json")}
            row["same_returns"] = row["before"]["mean_returns"] == row["after"]["mean_returns"]
            row["speedup_wall"] = round(row["before"]["wall_s"] / row["after"]["wall_s"], 2)
            row["speedup_cpu"] = round(row["before"]["cpu_s"] / row["after"]["cpu_s"], 2)
            print(f"round {i}: before {row['before']['wall_s']} s wall, {row['before']['cpu_s']} s CPU; after "
                  f"{row['after']['wall_s']} s wall, {row['after']['cpu_s']} s CPU; same returns: "
                  f"{row['same_returns']}", flush=True)
            report["rounds"].append(row)
    write_json(args.out, report)
    print(f"wrote {args.out}")


def _horizon(run: Path) -> int | None:
    from wsa_robot.run.run_dir import RunDir

    return RunDir(run).read_config().horizon


if __name__ == "__main__":
    main()
