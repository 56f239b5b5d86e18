"""Importing wsa_robot only defines things: environment variables, logging and the matplotlib backend are set by
the CLI entry or by the function that needs them, never by an import (a library user's process stays theirs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import wsa_robot

ROOT = Path(wsa_robot.__file__).parent

PROBE = r"""
import importlib, json, logging, os, pkgutil, sys
import matplotlib
import stable_baselines3.common.env_util  # SB3's own import loads cv2, which sets LD_LIBRARY_PATH and QT_*: theirs
import wsa_robot

def state():
    return {"environ": dict(os.environ), "logging_disable": logging.root.manager.disable,
            "root_level": logging.root.level, "root_handlers": len(logging.root.handlers),
            "matplotlib_backend": str(dict.__getitem__(matplotlib.rcParams, "backend"))}

logging.disable(logging.INFO)  # a user's own setting, which no import may reset
before = state()
names = sorted(m.name for m in pkgutil.walk_packages(wsa_robot.__path__, "wsa_robot."))
failed = {}
for name in names:
    try:
        importlib.import_module(name)
    except ImportError as e:  # an optional extra that is not installed: not this test's business
        failed[name] = str(e)
after = state()
print(json.dumps({"before": before, "after": after, "modules": names, "failed": failed}))
"""


def test_importing_every_module_changes_no_process_state():
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM")}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=600,
                         cwd=ROOT.parent)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "wsa_robot.envs.robosuite.env" in result["modules"] and not result["failed"], result["failed"]
    before, after = result["before"], result["after"]
    changed = {k: (before["environ"].get(k), after["environ"].get(k))
               for k in set(before["environ"]) | set(after["environ"])
               if before["environ"].get(k) != after["environ"].get(k)}
    assert not changed, f"imports changed environment variables: {changed}"
    assert after["logging_disable"] == before["logging_disable"] == 20  # the user's logging.disable(INFO) stands
    assert (after["root_level"], after["root_handlers"]) == (before["root_level"], before["root_handlers"])
    assert after["matplotlib_backend"] == before["matplotlib_backend"]
