"""Train WSA-SAC on a task (default Lift) for a fixed budget; save the eval success-rate and return curve.

    python experiments/learn_check.py --steps 30000 --eval-every 2500 [key=value ...]
    python experiments/learn_check.py --report-only      # rewrite the JSON from runs/learn_check as it stands
    # Fetch (HER), one run dir per task, every task into one JSON:
    python experiments/learn_check.py --task fetch/Reach --steps 20000 --eval-every 2000 --eval-episodes 10 \
        --run-dir runs/learn_check_fetch_reach --out results/learn_check_fetch.json torch_threads=1

Stopped early (Ctrl-C or SIGTERM), it checkpoints and still writes the JSON; run it again to continue.

Writes results/learn_check_lift.json: {"Lift": {"steps": [...], "success_rate": [...], "return": [...],
"wall_s": ..., "config": {...}}}; other tasks already in the --out file are kept. It goes through the same
`train()` as `wsa-robot train`. The curve goes beside --out: learn_check_lift.png, learn_check_fetch_reach.png.

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
import time
from pathlib import Path

from wsa_robot.core.atomic import write_json
from wsa_robot.core.provenance import provenance
from wsa_robot.config import load_config
from wsa_robot.run.pipeline import plan
from wsa_robot.run.run_dir import RunDir
from wsa_robot.run.train import train


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
    run = RunDir(args.run_dir)
    resume = run.model_file.exists()
    cfg = run.read_config() if resume else load_config(
        [f"task={args.task}", f"total_steps={args.steps}", f"eval_every={args.eval_every}",
         f"eval_episodes={args.eval_episodes}", f"checkpoint_every={args.eval_every}", *args.overrides])
    args.run_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    if not args.report_only:
        train(run, plan(cfg), resume=resume, progress=True)
    evals = run.read_evals()
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results[args.label or cfg.task] = {
        "steps": [e["step"] for e in evals],
        "success_rate": [e["success_rate"] for e in evals],
        "return": [e["mean_return"] for e in evals],
        "wall_s": evals[-1]["wall_s"] if evals else round(time.time() - start, 1),
        "total_steps": cfg.total_steps,
        "steps_done": run.read_state()["num_timesteps"],  # less than total_steps if it was stopped early
        "eval_episodes": cfg.eval_episodes,
        "config": cfg.model_dump(),
        "provenance": prov,
        **({"label": args.label} if args.label else {}),
    }
    results["provenance"] = prov  # the file's latest writer; each task's entry keeps its own
    write_json(args.out, results)
    if evals:
        from wsa_robot.eval.plots import plot_curves

        name = cfg.task.rsplit("/", 1)[-1].lower()  # results/learn_check_lift.png, learn_check_fetch_reach.png
        png = args.out.with_suffix(".png") if args.out.stem.endswith(name) or args.label else \
            args.out.with_name(f"{args.out.stem}_{name}.png")
        series = {k: (r["steps"], r["return"]) for k, r in results.items()
                  if r.get("label") and r["config"]["task"] == cfg.task} if args.label else \
            {"": ([e["step"] for e in evals], [e["mean_return"] for e in evals])}
        plot_curves(series, png, ylabel="eval return (deterministic)", title=f"{cfg.fusion.upper()}-{cfg.algo.upper()} on {cfg.task}")
    for e in evals:
        print(f"step {e['step']:>7}  success {e['success_rate']:.2f}  return {e['mean_return']:8.2f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
