"""Every results file says where its numbers came from (wsa_robot/core/provenance.py), and the one helper that
writes that block records what it claims to."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from wsa_robot.core.provenance import REQUIRED, provenance, valid

ROOT = Path(__file__).resolve().parent.parent
# every measured file under results/; a kept agent's run dir (results/agents/...: config.yaml, evals.json and its
# checkpoint, so `wsa-robot eval` replays it) holds the run's own files, whose provenance is the results file
# that quotes it
RESULTS = sorted(p for p in (ROOT / "results").rglob("*.json")
                 if not any((d / "config.yaml").exists() for d in p.parents if ROOT / "results" in d.parents))


def test_the_command_is_the_processs_whole_command_line():
    """What a reader needs to rerun it: the interpreter, its options and every argument, quoted as a shell would."""
    code = "import sys; from wsa_robot.core.provenance import provenance; print(provenance()['command'])"
    argv = [sys.executable, "-u", "-c", code, "--steps", "5", "name=a b"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == shlex.join(argv)


def test_the_block_holds_date_commit_command_machine_load_and_versions():
    block = provenance()
    assert valid(block) == [] and set(REQUIRED) <= set(block)
    assert re.fullmatch(r"[0-9a-f]{40}", block["commit"]) and isinstance(block["dirty"], bool)
    assert block["machine"]["cores"] == os.cpu_count()
    assert block["machine"]["cpu"] and len(block["load_avg_start"]) == 3
    import torch

    assert block["versions"]["torch"] == torch.__version__ and "stable-baselines3" in block["versions"]
    assert {"mujoco", "robosuite"} <= set(block["versions"])
    assert valid({k: v for k, v in block.items() if k != "commit"}) == ["missing commit"]
    assert valid({**block, "machine": {"cpu": "x"}}) == ["missing machine.cores", "missing machine.gpu"]
    assert valid("unknown") == [] and valid(None)


@pytest.mark.parametrize("path", RESULTS, ids=[str(p.relative_to(ROOT)) for p in RESULTS])
def test_every_results_file_carries_provenance(path):
    data = json.loads(path.read_text())
    assert "provenance" in data, f"{path.name} has no provenance block (wsa_robot.core.provenance.provenance())"
    assert valid(data["provenance"]) == []


def test_encoder_sets_report_only_takes_its_settings_from_the_runs(tmp_path):
    """The encoder-set comparison is `wsa-robot plan configs/encoder_sets.yaml` (experiments/compare_encoder_sets.py
    was): its report reads each run's budget and eval schedule from the run dir, not the command's defaults."""
    from wsa_robot.config import load_config
    from wsa_robot.engine.plan import Schedule, read_plan
    from wsa_robot.run.run_dir import RunDir

    plan = ROOT / "configs" / "encoder_sets.yaml"
    for run in read_plan(plan, only=["ae", "ae+kp"]).runs:
        path = tmp_path / "runs" / run.name
        path.mkdir(parents=True)
        RunDir(path).write_config(load_config(run.config_overrides(Schedule(8000, 2000, 5), ["torch_threads=1"])))
    out = tmp_path / "sets.json"
    proc = subprocess.run([sys.executable, "-m", "wsa_robot.cli", "plan", str(plan), "--runs-root",
                           str(tmp_path / "runs"), "--report-only", "--out", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert [r["label"] for r in data["runs"]] == ["ae", "ae+kp"]
    # the runs went 8000 steps with an eval every 2000; the command's defaults (200000, 10000) must not appear
    for row in data["runs"]:
        assert (row["budget_steps"], row["config"]["eval_every"], row["config"]["eval_episodes"]) == (8000, 2000, 5)
    assert valid(data["provenance"]) == [] and "--report-only" in data["provenance"]["command"]
    committed = json.loads((ROOT / "results" / "encoder_sets_lift.json").read_text())
    assert (committed["budget_steps"], committed["eval_every"]) == (8000, 2000)
