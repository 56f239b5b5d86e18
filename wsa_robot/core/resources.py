"""Where the project's data folders (tasks/, configs/, assets/) live, for a source checkout and an install."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data_root() -> Path:
    """WSA_ROBOT_HOME if set, else the source checkout beside the package, else the installed share/ folder."""
    env = os.environ.get("WSA_ROBOT_HOME")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "tasks").is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "wsa-robot"


def data_dir(name: str) -> Path:
    """One of tasks, configs, assets."""
    return data_root() / name
