"""Expand a sweep into trials, each an ordinary run dir, and check everything a trial needs before Ray starts.

A trial's id is a readable function of its grid values alone (`task=Lift,fusion=wsa,encoders=ae+seg,seed=0`),
so running the sweep again finds the same run dirs: finished trials are skipped, unfinished ones resume."""

from __future__ import annotations

# Imports inside functions: the run layer's checks (check_trials), so a sweep spec parses without torch.

import difflib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wsa_robot.config import RunConfig, _keys, load_config, read_run_config
from wsa_robot.core.errors import UserError
from wsa_robot.engine.jobs import Job
from wsa_robot.engine.target import read_target
from wsa_robot.run.run_dir import RunDir
from wsa_robot.sweep.spec import SweepSpec

SWEEPS_ROOT = Path("runs/sweeps")
_RESERVED = {"run_dir": "the sweep gives each trial its own run dir (runs/sweeps/<name>/<trial-id>)"}
_IGNORED_IN_RESUME = ("torch_threads", "run_dir")  # may differ between a run and its resumption


@dataclass
class Trial:
    id: str
    cell: str                    # the id without the seed: trials of one cell are averaged together
    params: dict[str, Any]       # grid key -> value for this trial
    overrides: list[str]         # key=value, exactly what `wsa-robot train` would take
    cfg: RunConfig = field(repr=False)

    @property
    def run(self) -> RunDir:
        return RunDir(Path(self.cfg.run_dir or "."))

    def steps_done(self) -> int:
        try:
            return int(self.run.read_state()["num_timesteps"])
        except (OSError, ValueError, KeyError):
            return 0

    def job(self) -> Job:
        """The trial as the engine trains it: its run dir, its budget, the overrides of a new run, and its torch
        threads (a resume keeps its config, but takes the threads the sweep gives it now)."""
        return Job(self.id, self.run.path, self.cfg.total_steps, tuple(self.overrides), self.cfg.torch_threads)

    def status(self) -> str:
        """done (reached total_steps, or stopped at the target for good: engine/target.py), partial (has a
        checkpoint to resume) or new."""
        if self.steps_done() >= self.cfg.total_steps or read_target(self.run.path) is not None:
            return "done"
        return "partial" if self.run.model_file.exists() else "new"


def _check_key(key: str, where: str, valid: list[str]) -> None:
    if key in _RESERVED:
        raise UserError(f"{where}: {key} cannot be set in a sweep; {_RESERVED[key]}")
    if key not in valid:
        close = difflib.get_close_matches(key, valid, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see configs/default.yaml for the keys"
        raise UserError(f"{where}: unknown config key {key!r}{hint}")


def _flatten(base: dict[str, Any], valid: list[str], where: str, prefix: str = "") -> dict[str, Any]:
    """`{sac: {batch_size: 32}}` and `{sac.batch_size: 32}` both give `{"sac.batch_size": 32}`."""
    out: dict[str, Any] = {}
    for key, value in base.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and dotted not in valid:
            out.update(_flatten(value, valid, where, dotted + "."))
        else:
            _check_key(dotted, where, valid)
            out[dotted] = value
    return out


def _raw(value: Any) -> str:
    """A YAML value as the text of a `key=value` override that parses back to the same value."""
    if isinstance(value, str) and yaml.safe_load(value) == value:
        return value
    return json.dumps(value)


def label(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "+".join(label(v) for v in value)
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def slug(params: dict[str, Any]) -> str:
    """`{"task": "atari/Pong", "seed": 0}` -> `task=atari-Pong,seed=0`: a folder name, stable across runs."""
    text = ",".join(f"{k}={label(v)}" for k, v in params.items())
    return re.sub(r"[^A-Za-z0-9._=,+@-]", "-", text) or "all"


def sweep_dir(spec: SweepSpec, out: Path | None = None) -> Path:
    """Absolute, since Ray workers run in another working directory."""
    return (out or SWEEPS_ROOT / spec.name).resolve()


def expand(spec: SweepSpec, file: Path, out: Path | None = None) -> list[Trial]:
    """Every trial of the grid, each config validated by the same schema as `wsa-robot train` (no Ray, no env)."""
    valid = _keys(RunConfig)
    base = _flatten(spec.base, valid, f"{file.name}: base")
    for key in spec.grid:
        _check_key(key, f"{file.name}: grid", valid)
    root = sweep_dir(spec, out)
    threads = [] if "torch_threads" in base or "torch_threads" in spec.grid else \
        [f"torch_threads={max(1, int(spec.resources.cpu))}"]
    trials, seen = [], {}
    for values in itertools.product(*spec.grid.values()):
        params = dict(zip(spec.grid, values))
        tid = slug(params)
        if tid in seen:
            raise UserError(f"{file.name}: grid values {seen[tid]} and {params} give the same trial id {tid}; "
                            "make them differ in letters or digits")
        seen[tid] = params
        merged = {**base, **params}
        overrides = [f"{k}={_raw(v)}" for k, v in merged.items()] + threads + [f"run_dir={_raw(str(root / tid))}"]
        try:
            cfg = load_config(overrides)
        except UserError as e:
            raise UserError(f"{file.name}: trial {tid}: {e}") from None
        cell = slug({k: v for k, v in params.items() if k != "seed"})  # "all" when only seeds vary
        trials.append(Trial(tid, cell, params, overrides, cfg))
    return trials


def check_resumable(trials: list[Trial]) -> None:
    """A run dir with a checkpoint must hold the config the sweep asks for now, or its results would be
    reported under settings it never ran with. Only total_steps may grow: the trial then trains on."""
    for t in trials:
        if not t.run.model_file.exists() or not t.run.config_file.exists():
            continue
        saved = read_run_config(t.run.config_file).model_dump()
        wanted = t.cfg.model_dump()
        diff = [k for k in wanted if k not in _IGNORED_IN_RESUME and saved.get(k) != wanted[k]
                and not (k == "total_steps" and wanted[k] > saved[k])]  # raising total_steps extends the run
        if diff:
            k = diff[0]
            raise UserError(f"trial {t.id}: its run dir {t.run.path} holds a run with {k}={saved.get(k)!r}, "
                            f"the sweep now asks for {k}={wanted[k]!r}; delete that folder to restart the trial "
                            "or give the sweep another name")


def check_trials(trials: list[Trial]) -> None:
    """Every trial resolved as `wsa-robot train` would resolve it, without loading a model, and the encoders
    they name available here (availability.py): a sweep should fail in one line now, not in its 30th trial an
    hour from now."""
    from wsa_robot.engine.availability import check_runs

    check_runs([(f"trial {t.id}", t.cfg) for t in trials], noun="trials")
