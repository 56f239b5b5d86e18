"""Learning curves of labelled configurations (scripts/learn_lift.py): train them one at a time, each an
ordinary run dir, resume the unfinished ones, and report success against steps beside the state oracle.

A plan is a YAML file: `task`, and `runs`, a list of {label, fusion, encoders, seeds, overrides}; each
(label, seed) is the run dir RUNS_ROOT/<label>-seed<seed>, trained by `wsa-robot train` in a child process
with the run's own periodic deterministic eval (eval_every / eval_episodes). A second call resumes what a stop
left unfinished (`train --resume`) and leaves finished runs alone; a run whose saved config no longer matches
its plan entry is refused, so an edited plan never continues a run under other settings.

Imports inside functions: torch and matplotlib (through wsa_robot.fusion and eval.plots), which the parent
process needs only for its report, not to start its children.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wsa_robot.config import RunConfig, load_config
from wsa_robot.core.errors import UserError
from wsa_robot.core.keys import STATE
from wsa_robot.engine.aggregate import iqm_ci
from wsa_robot.run.run_dir import RunDir, train_child_command
from wsa_robot.core.run_files import read_yaml_mapping
from wsa_robot.run.stopping import die_with_parent, sigterm_as_ctrl_c

TARGET = 0.8  # the success rate whose first crossing is reported (steps_to_0.8)
HIGH_TARGET = 0.9  # and this one's (steps_to_0.9): Lift's target with demos (issue 35)
# keys that say how a run is scheduled and measured, not what learns: a run is "default" if all others match
BOOKKEEPING = ("seed", "run_dir", "total_steps", "eval_every", "eval_episodes", "checkpoint_every",
               "checkpoint_minutes", "torch_threads", "device")


@dataclass(frozen=True)
class LearnRun:
    label: str
    seed: int
    task: str
    fusion: str | None = None        # None: the config's default
    encoders: tuple[str, ...] = ()   # empty: the config's default
    overrides: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.label}-seed{self.seed}"

    def config_overrides(self, steps: int, eval_every: int, eval_episodes: int, common: list[str]) -> list[str]:
        """Every `key=value` of a new run: the plan entry's settings over `common` (the command line's)."""
        own = ([f"fusion={self.fusion}"] if self.fusion else []) + \
              ([f"encoders={','.join(self.encoders)}"] if self.encoders else [])
        return [f"task={self.task}", f"seed={self.seed}", f"total_steps={steps}", f"eval_every={eval_every}",
                f"eval_episodes={eval_episodes}", f"checkpoint_every={eval_every}", *common, *own,
                *self.overrides]


@dataclass
class Plan:
    task: str
    runs: list[LearnRun] = field(default_factory=list)


def read_plan(path: Path, only: list[str] | None = None) -> Plan:
    """The plan file's runs (only the labels in `only`, if given); every mistake is a UserError."""
    if not path.exists():
        raise UserError(f"plan file {path} does not exist; pass --plan FILE (see configs/learn_lift.yaml)")
    data = yaml.safe_load(path.read_text()) or {}
    task, entries = data.get("task", "Lift"), data.get("runs") or []
    labels = [e.get("label") for e in entries]
    for e in entries:
        label = e.get("label")
        if not label or not re.fullmatch(r"[A-Za-z0-9_.+-]+", str(label)):
            raise UserError(f"{path}: every run needs a label of letters, digits and _.+- (got {label!r})")
        unknown = set(e) - {"label", "fusion", "encoders", "seeds", "overrides"}
        if unknown:
            raise UserError(f"{path}: run {label} has unknown field {sorted(unknown)[0]!r}; "
                            "use label, fusion, encoders, seeds, overrides")
    dup = {x for x in labels if labels.count(x) > 1}
    if dup:
        raise UserError(f"{path}: label {sorted(dup)[0]} is used twice; give each configuration its own label")
    missing = [x for x in only or [] if x not in labels]
    if missing:
        raise UserError(f"--only {missing[0]}: no such label in {path}; labels: {', '.join(labels)}")
    runs = []
    for e in entries:
        if only and e["label"] not in only:
            continue
        encoders = e.get("encoders") or []
        encoders = [encoders] if isinstance(encoders, str) else encoders
        for seed in e.get("seeds", [0]):
            runs.append(LearnRun(str(e["label"]), int(seed), task, e.get("fusion"), tuple(encoders),
                                 tuple(str(o) for o in e.get("overrides") or [])))
    return Plan(task, runs)


def check_configs(plan: Plan, steps: int, eval_every: int, eval_episodes: int, common: list[str]) -> None:
    """Every run's config loads and resolves, its encoders available (availability.py): a bad key or a missing
    encoder fails now, not in the fifth run hours from now."""
    from wsa_robot.engine.availability import check_runs

    configs = []
    for run in plan.runs:
        try:
            configs.append((f"run {run.name}", load_config(run.config_overrides(steps, eval_every, eval_episodes,
                                                                                 common))))
        except UserError as e:
            raise UserError(f"run {run.name}: {e}") from None
    check_runs(configs)


def _learning_settings(cfg: RunConfig) -> dict[str, Any]:
    return {k: v for k, v in cfg.model_dump().items() if k not in BOOKKEEPING}


def changed_settings(saved: RunConfig, wanted: RunConfig) -> list[str]:
    """Keys (dotted) whose values differ between two configs, bookkeeping keys aside."""
    a, b = _learning_settings(saved), _learning_settings(wanted)
    out = []
    for key in sorted(set(a) | set(b)):
        if isinstance(a.get(key), dict) and isinstance(b.get(key), dict):
            out += [f"{key}.{k}" for k in sorted(set(a[key]) | set(b[key])) if a[key].get(k) != b[key].get(k)]
        elif a.get(key) != b.get(key):
            out.append(key)
    return out


def is_default(cfg: RunConfig) -> bool:
    """Whether the run learns with the project's default config for its task (`wsa-robot train --task T`)."""
    return not changed_settings(load_config([f"task={cfg.task}"]), cfg)


def train_command(run: LearnRun, path: Path, steps: int, eval_every: int, eval_episodes: int,
                  common: list[str]) -> list[str]:
    """`wsa-robot train` for a new run, or `--resume` for one already started (its own config, the budget),
    after checking that a started run still matches its plan entry."""
    rd = RunDir(path)
    if rd.config_file.exists():
        wanted = load_config(run.config_overrides(steps, eval_every, eval_episodes, common))
        # keys the run never recorded were added to the schema after it started: it keeps what it had
        recorded = set(read_yaml_mapping(rd.config_file))
        changed = [k for k in changed_settings(rd.read_config(), wanted) if k.split(".")[0] in recorded]
        if changed:
            raise UserError(f"run {path} was started with other settings than its plan entry ({', '.join(changed)}); "
                            "restore the entry, give it a new label, or delete the run dir")
    return train_child_command(path, steps, run.config_overrides(steps, eval_every, eval_episodes, common))


class Stopped(Exception):
    """Training stopped before the budget (Ctrl-C, SIGTERM, or a run that failed)."""


def train_plan(plan: Plan, runs_root: Path, steps: int, eval_every: int, eval_episodes: int,
               common: list[str], log=print) -> None:
    """Train every run of the plan, one at a time; finished runs are skipped, unfinished ones resumed.
    Ctrl-C reaches the child too (same process group): it checkpoints, and this stops after it. SIGTERM to
    this process is passed on to the child. Raises Stopped when a run did not reach the budget."""
    runs_root.mkdir(parents=True, exist_ok=True)
    logs = runs_root / "logs"
    logs.mkdir(exist_ok=True)
    with sigterm_as_ctrl_c() as terminated:
        for run in plan.runs:
            path = runs_root / run.name
            done = RunDir(path).checkpoint_step()
            if (done or 0) >= steps:
                log(f"{run.name}: finished ({done} steps)")
                continue
            command = train_command(run, path, steps, eval_every, eval_episodes, common)
            log(f"{run.name}: {'resuming at ' + str(done) if done else 'starting'}; log {logs / run.name}.log")
            with open(logs / f"{run.name}.log", "a") as out:
                proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
                try:
                    code = proc.wait()
                except KeyboardInterrupt:
                    if terminated and proc.poll() is None:
                        proc.send_signal(signal.SIGTERM)  # Ctrl-C reached it already; SIGTERM did not
                    proc.wait()
                    raise Stopped(f"stopped during {run.name}; run the same command again to resume") from None
            reached = RunDir(path).checkpoint_step() or 0
            if code != 0:
                raise Stopped(f"{run.name} failed (exit {code}); see {logs / run.name}.log")
            if reached < steps:
                raise Stopped(f"{run.name} stopped at step {reached}; run the same command again to resume")


def steps_to(curve: list[dict], target: float = TARGET) -> tuple[int | None, float | None]:
    """The first eval (steps, wall seconds) whose success reaches `target`; (None, None) if none does."""
    for row in curve:
        if row["success"] is not None and row["success"] >= target:
            return row["steps"], row["wall_s"]
    return None, None


def run_row(run: LearnRun, path: Path) -> dict | None:
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
            f"steps_to_{HIGH_TARGET}": first_high, f"wall_s_to_{HIGH_TARGET}": wall_high}


def demos_used(cfg, path: Path) -> dict:
    """How many demonstrations a run learned from and where they came from (`demos`, `demos_n`)."""
    from wsa_robot.demos.source import demo_file, recorded_count, scripted

    if cfg.demos is None:
        return {"demos": 0, "demos_source": None}
    if scripted(cfg):
        return {"demos": recorded_count(cfg), "demos_source": "scripted PRIVILEGED controller (envs/experts.py)"}
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


def earlier_rows(out: Path) -> dict[tuple[str, int], dict]:
    """The rows of an earlier `out`, by (label, seed), each stamped with when and at which commit it was
    measured (kept from an earlier carry, else the file's provenance); {} when there is no readable file."""
    try:
        earlier = json.loads(out.read_text())
    except (OSError, ValueError):
        return {}
    prov = earlier.get("provenance") or {}
    stamp = {"date": prov.get("date"), "commit": prov.get("commit"), "file": str(out)}
    return {(r["label"], r["seed"]): {**r, "measured": r.get("measured") or stamp}
            for r in earlier.get("runs", []) if "label" in r and "seed" in r}


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


def plot(result: dict, path: Path) -> Path:
    """Success (and return) against env steps: per label the mean over seeds and its min-max spread; the
    privileged oracle dashed; the 0.8 target dotted."""
    import numpy as np

    from wsa_robot.eval.plots import pyplot, save_figure

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    labels = list(dict.fromkeys(r["label"] for r in result["runs"]))
    for i, label in enumerate(labels):
        rows = [r for r in result["runs"] if r["label"] == label and r["curve"]]
        if not rows:
            continue
        style = "--" if rows[0]["privileged"] else "-"
        colour = plt.get_cmap("tab20")((2 * i + i // 10) % 20)  # 20 distinct colours, the strong ones first
        width = 1.5
        if rows[0]["default"]:  # the headline: what `wsa-robot train --task T` does
            colour, width = "black", 2.5
        for ax, key in zip(axes, ("success", "return")):
            steps = sorted({p["steps"] for r in rows for p in r["curve"]})
            per_step = [[p[key] for r in rows for p in r["curve"] if p["steps"] == s and p[key] is not None]
                        for s in steps]
            keep = [j for j, v in enumerate(per_step) if v]
            x = np.array([steps[j] for j in keep])
            vals = [per_step[j] for j in keep]
            mean = np.array([np.mean(v) for v in vals])
            name = f"{label}{' (privileged)' if rows[0]['privileged'] else ''}, {len(rows)} seed{'s' * (len(rows) > 1)}"
            ax.plot(x, mean, style, color=colour, linewidth=width, marker=".", label=name)
            if len(rows) > 1:
                ax.fill_between(x, [min(v) for v in vals], [max(v) for v in vals], color=colour, alpha=0.15)
    axes[0].axhline(TARGET, color="grey", linestyle=":", linewidth=1)
    axes[0].set(xlabel="env steps", ylabel="eval success (deterministic)", ylim=(-0.02, 1.02),
                title=f"{result['task']}: success, mean and min-max over seeds")
    axes[1].set(xlabel="env steps", ylabel="eval return (deterministic)", title=f"{result['task']}: return")
    for ax in axes:
        ax.grid(alpha=0.3)
    if any(r["curve"] for r in result["runs"]):
        axes[0].legend(fontsize=7, loc="center right")  # the middle of the success axis: curves sit near 0 or 1
    return save_figure(fig, path)
