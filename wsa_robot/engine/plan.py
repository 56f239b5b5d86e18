"""A plan: labelled configurations of one task, each trained on its seeds as an ordinary run dir
RUNS_ROOT/<label>-seed<seed>, all on one schedule (budget, eval every, eval episodes) given by the command line.

The file: `task`, `runs` (a list of {label, fusion, encoders, seeds, overrides}) and, for Ray, `resources` (what
one run reserves). Every mistake in it is one UserError, raised before any run starts.
"""

from __future__ import annotations

# Imports inside functions: the availability check (torch, the encoder registry), only when a plan is checked.

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wsa_robot.config import load_config
from wsa_robot.core.errors import UserError

ENTRY_FIELDS = ("label", "fusion", "encoders", "seeds", "overrides")
PLAN_FIELDS = ("task", "runs", "resources")


class Resources(BaseModel):
    """What one run reserves on Ray; a fraction of a GPU lets several runs share one card."""
    model_config = ConfigDict(extra="forbid")
    cpu: float = Field(1.0, gt=0)
    gpu: float = Field(0.0, ge=0)


@dataclass(frozen=True)
class Schedule:
    """How long every run of a plan trains and how often it is measured (and checkpointed, at each eval)."""
    steps: int
    eval_every: int
    eval_episodes: int

    def overrides(self) -> list[str]:
        return [f"total_steps={self.steps}", f"eval_every={self.eval_every}",
                f"eval_episodes={self.eval_episodes}", f"checkpoint_every={self.eval_every}"]


@dataclass(frozen=True)
class PlannedRun:
    label: str
    seed: int
    task: str
    fusion: str | None = None        # None: the config's default
    encoders: tuple[str, ...] = ()   # empty: the config's default
    overrides: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.label}-seed{self.seed}"

    def config_overrides(self, schedule: Schedule, common: list[str]) -> list[str]:
        """Every `key=value` of a new run: the plan entry's settings over `common` (the command line's)."""
        own = ([f"fusion={self.fusion}"] if self.fusion else []) + \
              ([f"encoders={','.join(self.encoders)}"] if self.encoders else [])
        return [f"task={self.task}", f"seed={self.seed}", *schedule.overrides(), *common, *own, *self.overrides]


@dataclass
class Plan:
    task: str
    runs: list[PlannedRun] = field(default_factory=list)
    resources: Resources = field(default_factory=Resources)

    def only(self, labels: list[str] | None) -> Plan:
        """The runs of these labels (all when None or empty)."""
        if not labels:
            return self
        return Plan(self.task, [r for r in self.runs if r.label in labels], self.resources)


def _read(path: Path) -> dict:
    if not path.exists():
        raise UserError(f"plan file {path} does not exist; pass --plan FILE (see configs/learn_lift.yaml)")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise UserError(f"{path} is not valid YAML{f' (line {mark.line + 1})' if mark else ''}; fix the file") \
            from None
    if not isinstance(data, dict):
        raise UserError(f"{path} must be a mapping with `task:` and `runs:` (see configs/learn_lift.yaml)")
    if "bench" in data:
        raise UserError(f"{path} is a bench spec; run it with `wsa-robot bench --plan {path}`")
    for key in data:
        if key not in PLAN_FIELDS:
            close = difflib.get_close_matches(str(key), PLAN_FIELDS, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]}?" if close else f"a plan has {', '.join(PLAN_FIELDS)}"
            raise UserError(f"{path}: unknown plan key {key!r}; {hint}")
    return data


def _check_entry(path: Path, label: str, e: dict) -> None:
    """An entry's values have the types the engine reads: seeds a list of integers, overrides a list of
    `key=value`s, encoders a name or a list of names, fusion a name."""
    seeds, overrides, encoders = e.get("seeds", [0]), e.get("overrides") or [], e.get("encoders") or []
    if not isinstance(seeds, list) or not seeds or not all(isinstance(x, int) and not isinstance(x, bool)
                                                           for x in seeds):
        raise UserError(f"{path}: run {label}: seeds is a list of integers, e.g. seeds: [0, 1, 2] (got {seeds!r})")
    if not isinstance(overrides, list) or not all(isinstance(o, str) and "=" in o for o in overrides):
        raise UserError(f"{path}: run {label}: overrides is a list of key=value, e.g. [sac.n_steps=3] "
                        f"(got {overrides!r})")
    if not (isinstance(encoders, str) or isinstance(encoders, list) and all(isinstance(x, str) for x in encoders)):
        raise UserError(f"{path}: run {label}: encoders is a name or a list of names (got {encoders!r})")
    if e.get("fusion") is not None and not isinstance(e["fusion"], str):
        raise UserError(f"{path}: run {label}: fusion is a name, e.g. fix (got {e['fusion']!r})")


def read_plan(path: Path, only: list[str] | None = None) -> Plan:
    """The plan file's runs (only the labels in `only`, if given); every mistake is a UserError."""
    data = _read(path)
    task, entries = data.get("task", "Lift"), data.get("runs") or []
    try:
        resources = Resources(**(data.get("resources") or {}))
    except (TypeError, ValidationError) as e:
        detail = e.errors()[0]["msg"] if isinstance(e, ValidationError) else "give {cpu: N, gpu: N}"
        raise UserError(f"{path}: bad resources: {detail}") from None
    if not isinstance(entries, list) or not isinstance(task, str):
        raise UserError(f"{path}: `task` is a task name and `runs` a list of entries (see configs/learn_lift.yaml)")
    labels = [e.get("label") if isinstance(e, dict) else None for e in entries]
    for e, label in zip(entries, labels):
        if not label or not re.fullmatch(r"[A-Za-z0-9_.+-]+", str(label)):
            raise UserError(f"{path}: every run needs a label of letters, digits and _.+- (got {label!r})")
        unknown = set(e) - set(ENTRY_FIELDS)
        if unknown:
            raise UserError(f"{path}: run {label} has unknown field {sorted(unknown)[0]!r}; "
                            f"use {', '.join(ENTRY_FIELDS)}")
        _check_entry(path, label, e)
    dup = {x for x in labels if labels.count(x) > 1}
    if dup:
        raise UserError(f"{path}: label {sorted(dup)[0]} is used twice; give each configuration its own label")
    missing = [x for x in only or [] if x not in labels]
    if missing:
        raise UserError(f"--only {missing[0]}: no such label in {path}; labels: {', '.join(labels)}")
    runs = []
    for e in entries:
        encoders = e.get("encoders") or []
        encoders = [encoders] if isinstance(encoders, str) else encoders
        for seed in e.get("seeds", [0]):
            runs.append(PlannedRun(str(e["label"]), int(seed), task, e.get("fusion"), tuple(encoders),
                                   tuple(str(o) for o in e.get("overrides") or [])))
    return Plan(task, runs, resources).only(only)


def check_plan(plan: Plan, schedule: Schedule, common: list[str]) -> None:
    """Every run's config loads and resolves, its encoders available (availability.py): a bad key or a missing
    encoder fails now, not in the fifth run hours from now."""
    from wsa_robot.engine.availability import check_runs

    configs = []
    for run in plan.runs:
        try:
            configs.append((f"run {run.name}", load_config(run.config_overrides(schedule, common))))
        except UserError as e:
            raise UserError(f"run {run.name}: {e}") from None
    check_runs(configs)
