"""Read the files of a run dir (config.yaml, checkpoints/state.json, evals.json, events.json) and check their
shape, so a broken file is one UserError "<path>: <what is wrong>; <fix>" and never a traceback deep inside
whatever reads it next. Missing files are the caller's business (FileNotFoundError passes through)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from wsa_robot.core.errors import UserError

RESTORE = "restore it from a copy"


def broken(path: Path | str, what: str, fix: str = RESTORE) -> UserError:
    return UserError(f"{path}: {what}; {fix}")


def _kind(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 30 else text[:27] + '...'}"


def _text(path: Path, fix: str) -> str:
    try:
        return path.read_text()
    except UnicodeDecodeError:
        raise broken(path, "not a text file", fix) from None
    except IsADirectoryError:
        raise broken(path, "is a folder, not a file", fix) from None


def read_yaml_mapping(path: Path, fix: str = RESTORE) -> dict[str, Any]:
    """A YAML file whose top level is a mapping (a run's config.yaml)."""
    try:
        data = yaml.safe_load(_text(path, fix))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise broken(path, f"not valid YAML{where}", fix) from None
    if not isinstance(data, dict):
        raise broken(path, f"holds {_kind(data)}, not a mapping of config keys", fix)
    return data


def read_json(path: Path, fix: str = RESTORE) -> Any:
    try:
        return json.loads(_text(path, fix))
    except json.JSONDecodeError as e:
        raise broken(path, f"not valid JSON (line {e.lineno}: {e.msg})", fix) from None


def read_state(path: Path) -> dict[str, Any]:
    """checkpoints/state.json: {"num_timesteps": int >= 0, "saved_at": float, ...}."""
    fix = "delete it (the checkpoint's own step count is used) or " + RESTORE
    data = read_json(path, fix)
    if not isinstance(data, dict):
        raise broken(path, f"holds {_kind(data)}, not a mapping", fix)
    steps = data.get("num_timesteps")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise broken(path, f"num_timesteps is {_kind(steps)}, not a step count", fix)
    return data


def read_rows(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    """evals.json / events.json: a list of mappings, each with the `required` keys."""
    fix = f"delete it (its history is lost) or {RESTORE}"
    data = read_json(path, fix)
    if not isinstance(data, list):
        raise broken(path, f"holds {_kind(data)}, not a list of rows", fix)
    for i, row in enumerate(data):
        if not isinstance(row, dict):
            raise broken(path, f"row {i} is {_kind(row)}, not a mapping", fix)
        missing = [k for k in required if k not in row]
        if missing:
            raise broken(path, f"row {i} has no {', '.join(missing)}", fix)
    return data
