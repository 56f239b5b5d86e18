"""Learning curves of labelled configurations (`wsa-robot plan`): a plan (engine/plan.py)
trained by the engine, each (label, seed) an ordinary run dir RUNS_ROOT/<label>-seed<seed> with the run's own
periodic deterministic eval (eval_every / eval_episodes), reported as success against steps beside the state
oracle. A second call resumes what a stop left unfinished and leaves finished runs alone; a run whose saved
config no longer matches its plan entry is refused (engine/jobs.py).

Imports inside functions: torch and matplotlib (through wsa_robot.fusion and eval.plots), which the parent
process needs only for its report, not to start its children.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from wsa_robot.config import RunConfig, load_config
from wsa_robot.core.keys import STATE
from wsa_robot.engine.aggregate import iqm_ci
from wsa_robot.engine.curves import Panel, Series, plot_curves
from wsa_robot.engine.executors import Executor, Stopped, start
from wsa_robot.engine.jobs import changed_settings, plan_jobs
from wsa_robot.engine.plan import Plan, PlannedRun, Schedule, check_plan, read_plan
from wsa_robot.engine.results import earlier_rows
from wsa_robot.engine.target import read_checks, read_target
from wsa_robot.run.run_dir import RunDir

TARGET = 0.8  # the success rate whose first crossing is reported (steps_to_0.8)
HIGH_TARGET = 0.9  # and this one's (steps_to_0.9): Lift's target with demos (issue 35)


def is_default(cfg: RunConfig) -> bool:
    """Whether the run learns with the project's default config for its task (`wsa-robot train --task T`)."""
    return not changed_settings(load_config([f"task={cfg.task}"]), cfg)


def steps_to(curve: list[dict], target: float = TARGET) -> tuple[int | None, float | None]:
    """The first eval (steps, wall seconds) whose success reaches `target`; (None, None) if none does."""
    for row in curve:
        if row["success"] is not None and row["success"] >= target:
            return row["steps"], row["wall_s"]
    return None, None


def run_row(run: PlannedRun, path: Path) -> dict | None:
    """One run's entry of the results: its curve from the run dir's evals; None if it never started."""
    from wsa_robot.fusion import pixel_based

    rd = RunDir(path)
    if not rd.config_file.exists():
        return None
    cfg = rd.read_config()
    curve = [{"steps": int(e["step"]), "success": e.get("success_rate"), "return": round(float(e["mean_return"]), 3),
              "episodes": cfg.eval_episodes, "wall_s": e.get("wall_s")} for e in rd.read_evals()]
    first, wall = steps_to(curve)
    first_high, wall_high = steps_to(curve, HIGH_TARGET)
    return {"label": run.label, "fusion": cfg.fusion, "encoders": list(cfg.encoders), "seed": cfg.seed,
            "default": is_default(cfg), "privileged": STATE in cfg.encoders and not pixel_based(cfg.fusion),
            **demos_used(cfg, path),
            "run": str(path), "steps_done": rd.checkpoint_step() or 0, "budget_steps": cfg.total_steps,
            "curve": curve, "config": cfg.model_dump(), f"steps_to_{TARGET}": first, f"wall_s_to_{TARGET}": wall,
            f"steps_to_{HIGH_TARGET}": first_high, f"wall_s_to_{HIGH_TARGET}": wall_high,
            "stopped_at_target": read_target(path), "target_checks": read_checks(path)}  # `--target`: the bench's


def demos_used(cfg, path: Path) -> dict:
    """How many demonstrations a run learned from and where they came from (`demos`, `demos_n`)."""
    from wsa_robot.demos.source import demo_file, recorded_count, scripted

    if cfg.demos is None:
        return {"demos": 0, "demos_source": None}
    if scripted(cfg):
        return {"demos": recorded_count(cfg),
                "demos_source": "scripted PRIVILEGED controller (envs/robosuite/experts.py)"}
    return {"demos": cfg.demos_n or "all", "demos_source": str(demo_file(cfg, path))}


def summary(rows: list[dict]) -> dict[str, dict]:
    """Per label: the seeds, how many reached the target, and their steps to it."""
    out: dict[str, dict] = {}
    for row in rows:
        s = out.setdefault(row["label"], {"seeds": [], "reached": 0, f"steps_to_{TARGET}": [],
                                          "privileged": row["privileged"], "default": row["default"]})
        s["seeds"].append(row["seed"])
        s[f"steps_to_{TARGET}"].append(row[f"steps_to_{TARGET}"])
        s["reached"] += row[f"steps_to_{TARGET}"] is not None
    for label, s in out.items():  # success over seeds at each eval step every seed reached (3+ seeds)
        curves = [{r["steps"]: r["success"] for r in row["curve"] if r["success"] is not None}
                  for row in rows if row["label"] == label]
        shared = sorted(set.intersection(*(set(c) for c in curves))) if curves else []
        at = [{"steps": step, **agg} for step in shared
              if (agg := iqm_ci([c[step] for c in curves])) is not None]
        if at:
            s["success_iqm"] = at
    return out


def carried_row(row: dict) -> dict:
    """An earlier row whose run dir is not on this machine (a new machine keeps only what was committed): its
    curve as measured, its "default" flag recomputed against the task's config as it is now."""
    try:
        row = {**row, "default": is_default(RunConfig.model_validate(row["config"]))}
    except (KeyError, ValueError):
        row = {**row, "default": False}  # a config the schema no longer reads is not today's default
    return row


def report(plan: Plan, runs_root: Path, out: Path, provenance: dict) -> dict:
    """Write `out` (JSON) and its PNG from the run dirs as they are; no training. A plan run whose dir is not
    here keeps its row from the earlier `out`, marked with when it was measured, so results survive a new
    machine; a run dir that is here always wins."""
    from wsa_robot.core.atomic import write_json

    earlier = earlier_rows(out)
    rows = []
    for run in plan.runs:
        row = run_row(run, runs_root / run.name)
        if row is None and (run.label, run.seed) in earlier:
            row = carried_row(earlier[(run.label, run.seed)])
        if row is not None:
            rows.append(row)
    result = {"task": plan.task, "target_success": TARGET, "runs": rows, "summary": summary(rows),
              "provenance": provenance}
    write_json(out, result)
    plot(result, out.with_suffix(".png"))
    return result


def plot(result: dict, path: Path) -> Path | None:
    """Success (and return) against env steps: per label the mean over seeds and its min-max spread; the
    privileged oracle dashed; the default (what `wsa-robot train --task T` does) black; the 0.8 target dotted."""
    from wsa_robot.eval.plots import pyplot

    palette = pyplot().get_cmap("tab20")
    series = []
    for i, label in enumerate(dict.fromkeys(r["label"] for r in result["runs"])):
        rows = [r for r in result["runs"] if r["label"] == label and r["curve"]]
        if not rows:
            continue
        privileged, default = rows[0]["privileged"], rows[0]["default"]
        name = f"{label}{' (privileged)' if privileged else ''}, {len(rows)} seed{'s' * (len(rows) > 1)}"
        series.append(Series(name, [r["curve"] for r in rows], dashed=privileged,
                             colour="black" if default else palette((2 * i + i // 10) % 20),  # strong ones first
                             width=2.5 if default else 1.5))
    task = result["task"]
    panels = [Panel("success", "eval success (deterministic)", f"{task}: success, mean and min-max over seeds",
                    ylim=(-0.02, 1.02), hline=TARGET),
              Panel("return", "eval return (deterministic)", f"{task}: return")]
    return plot_curves(series, panels, path, empty_panels=True)  # legend mid-axis: curves sit near 0 or 1


def learn(plan_file: Path, runs_root: Path, schedule: Schedule, out: Path, common: list[str],
          runner: Executor | None, only: list[str] | None = None, say: Callable[[str], None] = print) -> int:
    """Train the plan's runs (`only` these labels; none with `runner` None: report only), then write `out`
    (JSON) and its PNG from every run of the plan. 0 when done, 1 when a run stopped short (resumable)."""
    from wsa_robot.core.provenance import provenance

    prov = provenance()  # at the start: the load average the runs began under
    plan = read_plan(plan_file)
    code = 0
    if runner is not None:
        to_train = read_plan(plan_file, only)
        check_plan(to_train, schedule, common)
        runs_root.mkdir(parents=True, exist_ok=True)
        try:
            start(plan_jobs(to_train, runs_root, schedule, common), runner, say)
        except Stopped as e:
            print(f"stopped: {e}", file=sys.stderr)
            code = 1
    result = report(plan, runs_root, out, prov)
    for label, s in result["summary"].items():
        steps = s[f"steps_to_{TARGET}"]
        say(f"{label:>24}: {s['reached']}/{len(steps)} seeds reached {TARGET} at {steps}"
            f"{'  (privileged)' if s['privileged'] else ''}{'  (default)' if s['default'] else ''}")
    say(f"wrote {out} and {out.with_suffix('.png')}")
    return code
