"""The sweep file: `name`, `base` config keys, a `grid` of config keys to cross, per-trial `resources`."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wsa_robot.core.errors import UserError
from wsa_robot.core.resources import data_dir
from wsa_robot.engine.plan import Resources


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SweepSpec(_Strict):
    name: str
    description: str = ""
    base: dict[str, Any] = {}          # config keys every trial shares (nested or dotted)
    grid: dict[str, list[Any]]         # dotted config key -> values; trials are the cross product
    resources: Resources = Resources()
    metric: Literal["mean_return", "success_rate", "score"] = "score"  # the column that marks each task's best cell
    score_last: int = Field(3, ge=1)   # score: mean eval return over a trial's last N evals (less noisy than one)


def _sweep_path(file: str | Path) -> Path:
    """A path, or the name of a shipped sweep (configs/sweeps/<name>.yaml)."""
    path = Path(file)
    if path.is_file():
        return path
    shipped = data_dir("configs") / "sweeps" / f"{path.name.removesuffix('.yaml')}.yaml"
    if path.parent == Path(".") and shipped.is_file():
        return shipped
    names = sorted(p.stem for p in (data_dir("configs") / "sweeps").glob("*.yaml"))
    raise UserError(f"sweep file {file} does not exist; pass a YAML path or a shipped sweep: {', '.join(names)}")


def load_sweep(file: str | Path) -> tuple[SweepSpec, Path]:
    """The sweep spec and its path; malformed files and unknown top-level keys are UserErrors."""
    path = _sweep_path(file)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise UserError(f"{path} is not valid YAML{where}; fix the file") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} must be a mapping with a `grid:` (see configs/sweeps/lift_encoders.yaml)")
    data.setdefault("name", path.stem)
    for key in data:
        if key not in SweepSpec.model_fields:
            close = difflib.get_close_matches(str(key), list(SweepSpec.model_fields), n=2, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else \
                f"; a sweep has {', '.join(SweepSpec.model_fields)} (config keys go under base: or grid:)"
            raise UserError(f"{path.name}: unknown sweep key {key!r}{hint}")
    try:
        spec = SweepSpec(**data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise UserError(f"{path.name}: bad value for {where}: {err['msg']} (got {err.get('input')!r})") from None
    if not re.fullmatch(r"[A-Za-z0-9._-]+", spec.name):
        raise UserError(f"{path.name}: sweep name {spec.name!r} must be a folder name (letters, digits, . _ -)")
    if not spec.grid:
        raise UserError(f"{path.name}: the grid is empty; give at least one key, e.g. grid: {{seed: [0, 1, 2]}}")
    for key, values in spec.grid.items():
        if not values:
            raise UserError(f"{path.name}: grid key {key} has no values; give a list such as [0, 1]")
    return spec, path
