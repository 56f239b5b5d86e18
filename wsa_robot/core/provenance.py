"""Where a measured number came from: the one `provenance` block every results/*.json carries.

Call `provenance()` when the measurement starts (it records the load then) and store it under "provenance".
Files measured before this block existed carry the string "unknown" instead (see `valid`).
"""

from __future__ import annotations

# Imports inside functions: torch, read only when a measurement records its versions.

import os
import platform
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("torch", "mujoco", "robosuite", "stable-baselines3", "gymnasium", "transformers", "wsa-robot")
REQUIRED = ("date", "commit", "dirty", "command", "machine", "load_avg_start", "versions")
MACHINE_KEYS = ("cpu", "cores", "gpu")


def _git(*args: str) -> str | None:
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name() -> str | None:
    """The first CUDA device's name (None without torch or a GPU)."""
    try:
        import torch

        if torch.cuda.is_available():
            return f"{torch.cuda.get_device_name(0)} (x{torch.cuda.device_count()})"
    except Exception:  # a broken driver is not a reason to lose the results
        return None
    return None


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def provenance() -> dict[str, Any]:
    """Date (UTC), commit and whether tracked files differed from it, the exact command line, the machine,
    its load average now (call this at the start), and the versions of the packages the numbers depend on."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "HEAD"),
        "dirty": None if status is None else bool(status),
        "command": shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv])),
        "cwd": os.getcwd(),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "cores_usable": usable, "gpu": gpu_name(),
                    "platform": platform.platform(), "python": platform.python_version()},
        "load_avg_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions(),
    }


def valid(block: Any) -> list[str]:
    """What a results file's provenance block lacks (empty: fine). "unknown" is accepted, for old files."""
    if block == "unknown":
        return []
    if not isinstance(block, dict):
        return [f"provenance is {type(block).__name__}, not a dict or 'unknown'"]
    missing = [k for k in REQUIRED if k not in block]
    machine = block.get("machine")
    missing += [f"machine.{k}" for k in MACHINE_KEYS if not isinstance(machine, dict) or k not in machine]
    return [f"missing {k}" for k in missing]
