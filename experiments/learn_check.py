"""Train WSA-SAC on a task (default Lift) for a fixed budget; save the eval success-rate and return curve.

    python experiments/learn_check.py --steps 30000 --eval-every 2500 [key=value ...]
    python experiments/learn_check.py --report-only      # rewrite the JSON from runs/learn_check as it stands
    # Fetch (HER), one run dir per task, every task into one JSON:
    python experiments/learn_check.py --task fetch/Reach --steps 20000 --eval-every 2000 --eval-episodes 10 \
        --run-dir runs/learn_check_fetch_reach --out results/learn_check_fetch.json torch_threads=1

Stopped early (Ctrl-C or SIGTERM), it checkpoints and still writes the JSON; run it again to continue (a larger
--steps extends a finished run). A run dir already started must hold the settings of the command that resumes
it (engine/jobs.py refuses an edited one).

Writes results/learn_check_lift.json: {"Lift": {"steps": [...], "success_rate": [...], "return": [...],
"wall_s": ..., "config": {...}}}; other tasks already in the --out file are kept. The run is a one-entry job of
the engine (engine/), trained by its in-process executor as `wsa-robot plan --executor inprocess` trains a
plan's runs; only the file it writes is this script's. The curve goes beside --out: learn_check_lift.png,
learn_check_fetch_reach.png.

Two configs of one task side by side: a --label per config, one run dir each, one --out; the entries are
keyed by label and the PNG beside --out draws every labelled curve of the task (then compare their WSA
weights with experiments/context_matters.py RUN:LABEL ...):

    python experiments/learn_check.py --steps 8000 --eval-every 2000 --label additive \
        --run-dir runs/learn_check_additive --out results/learn_check_scorer_lift.json wsa_scorer=additive
    python experiments/learn_check.py --steps 8000 --eval-every 2000 --label linear \
        --run-dir runs/learn_check_linear --out results/learn_check_scorer_lift.json wsa_scorer=linear
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from wsa_robot.core.atomic import write_json
from wsa_robot.core.errors import UserError
from wsa_robot.core.provenance import provenance
from wsa_robot.engine.curves import Panel, Series, plot_curves
from wsa_robot.engine.executors import InProcess, Stopped, start
from wsa_robot.engine.jobs import Job
from wsa_robot.engine.plan import Schedule
from wsa_robot.run.run_dir import RunDir


def job(args: argparse.Namespace) -> Job:
    """The one run as an engine job: new with these settings (checkpointed at each eval), or resumed to --steps."""
    schedule = Schedule(args.steps, args.eval_every, args.eval_episodes)
    return Job(args.run_dir.name, args.run_dir, args.steps,
               (f"task={args.task}", *schedule.overrides(), *args.overrides))


def entry(run: RunDir, prov: dict, label: str | None) -> dict:
    """The run's entry of the --out file, as this script has always written it (docs quote those files)."""
    cfg, evals = run.read_config(), run.read_evals()
    return {"steps": [e["step"] for e in evals], "success_rate": [e["success_rate"] for e in evals],
            "return": [e["mean_return"] for e in evals], "wall_s": evals[-1]["wall_s"] if evals else run.wall_s(),
            "total_steps": cfg.total_steps,
            "steps_done": run.checkpoint_step() or 0,  # less than total_steps if it was stopped early
            "eval_episodes": cfg.eval_episodes, "config": cfg.model_dump(), "provenance": prov,
            **({"label": label} if label else {})}


def plot(results: dict, task: str, out: Path, label: str | None) -> Path | None:
    """The return curve beside --out (learn_check_lift.png, learn_check_fetch_reach.png); with --label, every
    labelled entry of the task in one plot."""
    name = task.rsplit("/", 1)[-1].lower()
    png = out.with_suffix(".png") if out.stem.endswith(name) or label else out.with_name(f"{out.stem}_{name}.png")
    entries = {k: r for k, r in results.items() if isinstance(r, dict) and r.get("label")
               and r["config"]["task"] == task} if label else {"": results[task]}
    series = [Series(k, [[{"steps": s, "return": v} for s, v in zip(r["steps"], r["return"])]])
              for k, r in entries.items()]
    cfg = results[label or task]["config"]
    panel = Panel("return", "eval return (deterministic)", f"{cfg['fusion'].upper()}-{cfg['algo'].upper()} on {task}")
    return plot_curves(series, [panel], png, xlabel="environment steps", panel_size=(6, 3.5),
                       legend="best" if len(series) > 1 else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="Lift")
    parser.add_argument("--steps", type=int, default=30000)
    parser.add_argument("--eval-every", type=int, default=2500)
    parser.add_argument("--eval-episodes", type=int, default=5)
    parser.add_argument("--run-dir", type=Path, default=Path("runs/learn_check"))
    parser.add_argument("--out", type=Path, default=Path("results/learn_check_lift.json"))
    parser.add_argument("--report-only", action="store_true",
                        help="write the JSON from the run dir as it stands, without training")
    parser.add_argument("--label", default=None, help="key of this run in --out (default: the task), to put "
                        "several configs of one task in one file and one plot")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    prov = provenance()
    if not args.report_only:
        try:
            start([job(args)], InProcess(progress=True))
        except Stopped as e:  # checkpointed: the file is written from what is there, and a rerun resumes
            print("\n".join(f"stopped: {line}" for line in e.lines), file=sys.stderr)
        except UserError as e:
            raise SystemExit(f"error: {e}") from None
    run = RunDir(args.run_dir)
    if not run.config_file.exists():
        raise SystemExit(f"no run in {args.run_dir}; run this without --report-only first")
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    task = run.read_config().task
    results[args.label or task] = entry(run, prov, args.label)
    results["provenance"] = prov  # the file's latest writer; each task's entry keeps its own
    write_json(args.out, results)
    if results[args.label or task]["steps"]:
        plot(results, task, args.out, args.label)
    for step, success, ret in zip(*(results[args.label or task][k] for k in ("steps", "success_rate", "return"))):
        print(f"step {step:>7}  success {success:.2f}  return {ret:8.2f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
