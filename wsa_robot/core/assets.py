"""assets/manifest.json: the weights this project trained, with sha256 and provenance; loading verifies it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from wsa_robot.core.atomic import write_json
from wsa_robot.core.errors import UserError
from wsa_robot.core.resources import data_dir


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest_path(assets: Path | None = None) -> Path:
    return (assets or data_dir("assets")) / "manifest.json"


def read_manifest(assets: Path | None = None) -> dict[str, dict[str, Any]]:
    path = manifest_path(assets)
    return json.loads(path.read_text()) if path.exists() else {}


def add_to_manifest(key: str, weights: Path, entry: dict[str, Any], assets: Path | None = None) -> dict[str, Any]:
    """Record a weights file (by name, relative to assets/) with its sha256 and provenance."""
    manifest = read_manifest(assets)
    manifest[key] = {"file": weights.name, "sha256": sha256(weights), **entry}
    write_json(manifest_path(assets), manifest)
    return manifest[key]


def verified_file(entry: dict[str, Any], assets: Path | None = None) -> Path:
    """The weights file of a manifest entry, after checking it exists and its sha256 matches."""
    path = (assets or data_dir("assets")) / entry["file"]
    if not path.exists():
        raise UserError(f"weights file {path} is missing; restore it from git or run `wsa-robot pretrain`")
    if sha256(path) != entry["sha256"]:
        raise UserError(f"weights file {path} does not match its sha256 in manifest.json; "
                        "restore it from git or retrain with `wsa-robot pretrain`")
    return path
