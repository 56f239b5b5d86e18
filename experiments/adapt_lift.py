"""Adaptability on a learned agent (issue 36, item 4): an encoder removed from it, one added to it, and the steps
it takes to recover, against a control arm that resumes with no change.

    python experiments/adapt_lift.py --run results/agents/learn_lift_update/h64-reused-seed0 \\
        --remove ae@robot0_eye_in_hand --add scene_inv --steps 10000 --every 2500 --episodes 20 \\
        --work runs/adapt_lift --out results/adapt_lift.json

Each arm is a copy of the run (the kept agent is never touched), changed as a user would change it:
`wsa-robot train --resume COPY total_steps=<its step> --remove-encoder X` (or `--add-encoder Y`, or nothing for the
control), then trained on in chunks of `--every` steps by `wsa-robot train --resume`; after the change and after
every chunk the agent plays `--episodes` deterministic episodes from the run's eval seeds. A kept agent carries no
replay buffer, so every arm resumes with an empty one: the control arm shows what that alone costs, and the
difference between an arm and the control is what the change costs. Recovered: the first point whose success is
at least the agent's success before the change less `--tolerance`.

Resumable: the results file is rewritten (atomically) after every point, and a point already in it is not
measured again; each arm's copy resumes from its own checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from wsa_robot.core.atomic import write_json
from wsa_robot.core.provenance import provenance
from wsa_robot.eval.conditions import evaluate_run
from wsa_robot.run.run_dir import RunDir, existing_run_dir

console = Console(width=80)


def arms(remove: list[str], add: list[str]) -> dict[str, list[str]]:
    """Arm name -> the flags of its change."""
    out = {"control": []}
    out.update({f"remove {x}": ["--remove-encoder", x] for x in remove})
    out.update({f"add {x}": ["--add-encoder", x] for x in add})
    return out


def cli(*args: str) -> None:
    """`wsa-robot ARGS` as a user runs it (this interpreter's package), failing loudly."""
    command = [sys.executable, "-m", "wsa_robot.cli", *args, "--no-progress"]
    done = subprocess.run(command, env=os.environ.copy())
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} exited with {done.returncode}")


def point(run: RunDir, episodes: int, after: int) -> dict:
    row = evaluate_run(run, episodes)
    return {"steps_after": after, "success": row["success_rate"], "return": round(row["mean_return"], 2),
            "std_return": round(row["std_return"], 2), "weights": row.get("weights")}


def recovered_at(curve: list[dict], before: float, tolerance: float) -> int | None:
    """Steps after the change to the first point back at `before` less `tolerance`; None: not within the run."""
    return next((p["steps_after"] for p in curve if p["success"] is not None and p["success"] >= before - tolerance),
                None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, required=True, help="a learned run dir (e.g. one kept in results/agents/)")
    p.add_argument("--remove", nargs="*", default=[], help="tokens or encoders to remove, one arm each")
    p.add_argument("--add", nargs="*", default=[], help="encoders to add, one arm each")
    p.add_argument("--steps", type=int, default=10000, help="steps trained after the change")
    p.add_argument("--every", type=int, default=2500, help="steps between evaluations")
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--tolerance", type=float, default=0.1)
    p.add_argument("--work", type=Path, default=Path("runs/adapt_lift"), help="where the arms' copies train")
    p.add_argument("--out", type=Path, default=Path("results/adapt_lift.json"))
    args = p.parse_args()
    source = existing_run_dir(args.run)
    start = source.checkpoint_step() or 0
    cfg = source.read_config()
    result = json.loads(args.out.read_text()) if args.out.exists() else {}
    if result.get("run") not in (None, str(args.run)):
        raise SystemExit(f"{args.out} holds another run's arms ({result['run']}); give another --out")
    result.update({"run": str(args.run), "task": cfg.task, "fusion": cfg.fusion, "encoders": cfg.encoders,
                   "trained_steps": start, "episodes": args.episodes, "tolerance": args.tolerance,
                   "steps": args.steps, "every": args.every, "provenance": provenance()})
    result.setdefault("arms", {})

    def save() -> None:
        write_json(args.out, result)

    if "before" not in result:
        result["before"] = point(source, args.episodes, 0)
        save()
    before = result["before"]["success"]
    console.print(f"before any change: success {before:.2f}, return {result['before']['return']}")
    for name, flags in arms(args.remove, args.add).items():
        copy = args.work / name.replace(" ", "-").replace("@", "-at-")
        if not copy.exists():
            shutil.copytree(source.path, copy)
        run = RunDir(copy)
        arm = result["arms"].setdefault(name, {"change": flags, "curve": []})
        if not arm["curve"]:
            cli("train", "--resume", str(copy), f"total_steps={start}", *flags)  # the change, no training
            arm["curve"].append(point(run, args.episodes, 0))
            save()
        while arm["curve"][-1]["steps_after"] < args.steps:
            target = arm["curve"][-1]["steps_after"] + args.every
            cli("train", "--resume", str(copy), f"total_steps={start + target}")
            arm["curve"].append(point(run, args.episodes, target))
            save()
        arm["recovered_at"] = recovered_at(arm["curve"], before, args.tolerance)
        save()
        shown = ", ".join(f"{c['steps_after']}: {c['success']:.2f}" for c in arm["curve"])
        console.print(f"{name}: {shown}; recovered at {arm['recovered_at']}")
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
