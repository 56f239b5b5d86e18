"""Robustness of trained agents: camera faults and visual variations, WSA against a baseline, one table.

    python experiments/faults_eval.py --run wsa=runs/encoder_sets/ae --run fix=runs/faults_fix --episodes 3

Every run is evaluated intact, under each camera fault (with the run's own masking, and for attention
fusions also with masking off, to show what feeding the garbage costs) and under each visual variation,
all from the same env seeds, so conditions differ only in what the cameras deliver. The relative change
against intact is reported per condition.

Writes results/faults_lift.json (atomically) and prints one table per run.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.console import Console

from wsa_robot.core.atomic import write_json
from wsa_robot.core.provenance import provenance
from wsa_robot.eval.conditions import Evaluator, conditions_table
from wsa_robot.run.run_dir import existing_run_dir

FAULTS = ["camera_dropout:agentview:p=0.5", "freeze:robot0_eye_in_hand:p=0.5", "noise:all:sigma=25"]
VARIATIONS = ["table_color", "lighting_dim", "camera_shift"]
MASKING = ("wsa", "dpa", "fix", "lin")  # fusions that read token_mask (cnn/e2e see the corrupted input)

console = Console()


def conditions(fusion: str, faults: list[str], variations: list[str], unmasked: bool = True) -> list[tuple[str, dict]]:
    """(name, Evaluator.evaluate keyword arguments) for every condition, intact first."""
    out: list[tuple[str, dict]] = [("intact", {})]
    for fault in faults:
        out.append((fault, {"faults": [fault]}))
        if unmasked and fusion in MASKING and not fault.startswith("noise"):
            out.append((f"{fault} (unmasked)", {"faults": [fault], "mask_faults": False}))
    out += [(f"variation {v}", {"variation": v}) for v in variations]
    return out


def save(out: Path, report: dict, label: str, wall_s: float) -> None:
    """Add this run's results to `out`, keeping the other runs already there (runs may be evaluated by
    separate processes side by side). The file's other fields are this report's: none of an older file's
    survive beside a provenance that does not describe them; each run keeps the provenance of the process that
    evaluated it."""
    runs = json.loads(out.read_text())["runs"] if out.exists() else {}
    runs[label] = {**report["runs"][label], "wall_s": round(wall_s, 1), "provenance": report["provenance"]}
    write_json(out, {**report, "runs": runs})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", action="append", required=True, help="LABEL=RUN_DIR (repeat)")
    p.add_argument("--episodes", type=int, default=3)
    p.add_argument("--faults", nargs="*", default=FAULTS)
    p.add_argument("--variations", nargs="*", default=VARIATIONS)
    p.add_argument("--no-unmasked", dest="unmasked", action="store_false",
                   help="skip the faults' unmasked rows (the run's masking only)")
    p.add_argument("--out", type=Path, default=Path("results/faults_lift.json"))
    args = p.parse_args()
    t0 = time.time()
    report: dict = {"provenance": provenance(), "episodes": args.episodes, "faults": args.faults, "variations": args.variations, "runs": {}}
    for item in args.run:
        label, path = item.split("=", 1)
        run = existing_run_dir(path)
        cfg = run.read_config()
        results: dict[str, dict] = {}
        with Evaluator(run) as evaluator:  # the run's encoders, agent and env, built once for all conditions
            for name, kwargs in conditions(cfg.fusion, args.faults, args.variations, args.unmasked):
                console.print(f"{label}: {name}")
                results[name] = evaluator.evaluate(args.episodes, **kwargs)
        base = results["intact"]["mean_return"]
        for row in results.values():
            row["return_vs_intact"] = round(row["mean_return"] / base, 3) if base else None
        state = run.read_state()
        report["runs"][label] = {"run_dir": str(run.path), "fusion": cfg.fusion, "encoders": cfg.encoders,
                                 "task": cfg.task, "trained_steps": state["num_timesteps"],
                                 "train_variations": cfg.train_variations, "train_hold_out": cfg.train_hold_out,
                                 "conditions": results}
        table = conditions_table(results)
        table.title = f"{label} ({cfg.fusion}, {state['num_timesteps']} steps): {args.episodes} episodes each"
        console.print(table)
        save(args.out, report, label, time.time() - t0)
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
