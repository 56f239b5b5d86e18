"""`wsa-robot sweep`: a tiny grid on a local Ray that the command starts and stops, skipping finished trials on
a second run; the report from fake run dirs (no Ray); user mistakes in sweep files (one line, exit 2)."""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from wsa_robot.cli.commands import main

from helpers import one_line_error, wait_for

TINY = """
name: tiny
base:
  task: Lift
  cameras: [agentview]
  total_steps: 100
  horizon: 30
  eval_every: 50
  eval_episodes: 1
  checkpoint_every: 50
  fusion_dim: 64
  sac: {learning_starts: 50, batch_size: 32, net_arch: [64, 64]}
grid:
  fusion: [wsa, fix]
  seed: [0]
resources: {cpu: 1, gpu: 0}
"""


def ray_processes(tag: str) -> list[str]:
    """Processes (other than this one) started by the Ray whose RAY_TMPDIR is `tag`: raylet, GCS, workers."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            text = (proc / "environ").read_bytes() + (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if tag.encode() in text:
            found.append(f"{proc.name}: {(proc / 'cmdline').read_bytes()[:80]!r}")
    return found


@pytest.fixture
def own_ray_tmp(monkeypatch):
    """A fresh temp root for Ray (short: its socket paths must fit 107 bytes), to find its processes after."""
    tag = tempfile.mkdtemp(prefix="wsa-ray-", dir="/tmp")
    monkeypatch.setenv("RAY_TMPDIR", tag)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    yield tag
    shutil.rmtree(tag, ignore_errors=True)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_tiny_sweep_on_local_ray_then_skips_finished(in_tmp, own_ray_tmp, capsys):
    import ray

    Path("tiny.yaml").write_text(TINY)
    assert main(["sweep", "tiny.yaml", "--cpus", "2"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "0 finished (skipped), 0 to resume, 2 new" in out
    assert not ray.is_initialized()
    # Ray's workers exit after shutdown returns; on a loaded 2-core machine that took over 20 s once
    wait_for(lambda: not ray_processes(own_ray_tmp), timeout=90, interval=0.5)
    assert not ray_processes(own_ray_tmp), ray_processes(own_ray_tmp)

    root = in_tmp / "runs" / "sweeps" / "tiny"
    states = {}
    for tid in ("fusion=wsa,seed=0", "fusion=fix,seed=0"):
        run = root / tid
        state = json.loads((run / "checkpoints" / "state.json").read_text())
        assert state["num_timesteps"] == 100
        assert (run / "checkpoints" / "model.zip").exists() and (run / "config.yaml").exists()
        assert f"run_dir: {run}" in (run / "config.yaml").read_text()  # absolute: workers run elsewhere
        assert [e["step"] for e in json.loads((run / "evals.json").read_text())] == [50, 100]
        states[tid] = (run / "checkpoints" / "state.json").read_text()

    rows = read_csv(root / "summary.csv")
    assert [r["fusion"] for r in rows] == ["wsa", "fix"] and all(r["done"] == "1" for r in rows)
    for r in rows:
        final = json.loads((root / f"fusion={r['fusion']},seed=0" / "evals.json").read_text())[-1]
        assert float(r["return_mean"]) == pytest.approx(final["mean_return"], abs=1e-4)
        assert float(r["return_std"]) == 0.0 and 0.0 <= float(r["success_mean"]) <= 1.0
    md = (root / "summary.md").read_text()
    assert "| fusion | done | return | success | score |" in md and "| wsa | 1/1 |" in md and "| fix | 1/1 |" in md
    for cell in ("fusion=wsa", "fusion=fix"):
        assert (root / "curves" / f"{cell}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    experiments = list((root / "_tune").iterdir())
    assert len(experiments) == 1

    # Again: both trials are finished, so nothing trains and Ray is not even started.
    start = time.time()
    assert main(["sweep", "tiny.yaml", "--cpus", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 finished (skipped), 0 to resume, 0 new" in out and "trials on Ray" not in out
    assert list((root / "_tune").iterdir()) == experiments
    assert all((root / tid / "checkpoints" / "state.json").read_text() == s for tid, s in states.items())
    assert len(read_csv(root / "summary.csv")) == 2
    assert time.time() - start < 60

    # A changed setting would report old runs under new settings: refused. A longer budget resumes them.
    Path("tiny.yaml").write_text(TINY.replace("eval_episodes: 1", "eval_episodes: 2"))
    assert main(["sweep", "tiny.yaml", "--dry-run"]) == 2
    assert "holds a run with eval_episodes=1" in capsys.readouterr().err
    Path("tiny.yaml").write_text(TINY.replace("total_steps: 100", "total_steps: 150"))
    assert main(["sweep", "tiny.yaml", "--dry-run"]) == 0
    assert "0 finished (skipped), 2 to resume, 0 new" in capsys.readouterr().out
    from wsa_robot.sweep import expand, load_sweep
    from wsa_robot.engine.train_job import train_job  # what each Ray trial runs, here without Ray

    trial = expand(*load_sweep("tiny.yaml"))[0]
    assert trial.status() == "partial"
    assert train_job(**trial.job().as_dict())["num_timesteps"] == 150
    run = root / trial.id
    assert [e["step"] for e in json.loads((run / "evals.json").read_text())] == [50, 100, 150]
    assert "total_steps: 150" in (run / "config.yaml").read_text() and trial.status() == "done"


def fake_trial(root: Path, tid: str, evals: list[tuple[int, float, float]], steps: int, checkpoint=True):
    run = root / tid
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "state.json").write_text(json.dumps({"num_timesteps": steps, "saved_at": 0}))
    if checkpoint:
        (run / "checkpoints" / "model.zip").write_bytes(b"not read by the report")
    rows = [{"step": s, "mean_return": r, "std_return": 0.0, "success_rate": sr, "wall_s": 1.0} for s, r, sr in evals]
    (run / "evals.json").write_text(json.dumps(rows))


def test_report_only_aggregates_run_dirs_without_ray(in_tmp):
    Path("fake.yaml").write_text("""
name: fake
base: {task: Lift, total_steps: 200}
grid: {fusion: [wsa, fix], seed: [0, 1]}
score_last: 2
metric: mean_return
""")
    root = in_tmp / "runs" / "sweeps" / "fake"
    fake_trial(root, "fusion=wsa,seed=0", [(100, 2.0, 0.0), (200, 10.0, 1.0)], 200)
    # a resumed run evaluated step 200 twice: the later row wins
    fake_trial(root, "fusion=wsa,seed=1", [(100, 4.0, 0.0), (200, 99.0, 1.0), (200, 20.0, 0.0)], 200)
    fake_trial(root, "fusion=fix,seed=0", [(100, 1.0, 0.0), (200, 3.0, 0.0)], 200)
    fake_trial(root, "fusion=fix,seed=1", [(100, 50.0, 1.0)], 100)  # unfinished: left out of the cell
    code = ("import sys; from wsa_robot.cli.commands import main; rc = main(['sweep', 'fake.yaml', '--report-only']); "
            "assert 'ray' not in sys.modules, 'the report imported ray'; sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "sweep fake" in proc.stdout

    rows = {r["fusion"]: r for r in read_csv(root / "summary.csv")}
    wsa, fix = rows["wsa"], rows["fix"]
    assert (wsa["done"], wsa["trials"], fix["done"], fix["trials"]) == ("2", "2", "1", "2")
    assert float(wsa["return_mean"]) == 15.0 and float(wsa["return_std"]) == 5.0
    assert float(wsa["success_mean"]) == 0.5 and float(wsa["success_std"]) == 0.5
    assert float(wsa["score_mean"]) == 9.0  # seeds' last-2 means: 6 and 12
    assert float(fix["return_mean"]) == 3.0 and float(fix["return_std"]) == 0.0
    md = (root / "summary.md").read_text()
    assert "| wsa | 2/2 | **15.00 ± 5.00** | 0.50 ± 0.50 | 9.00 ± 3.00 |" in md
    assert "| fix | 1/2 | 3.00 ± 0.00 |" in md
    trials = {r["trial"]: r for r in read_csv(root / "trials.csv")}
    assert trials["fusion=fix,seed=1"]["status"] == "partial" and trials["fusion=fix,seed=1"]["final_return"] == ""
    assert sorted(p.name for p in (root / "curves").iterdir()) == ["fusion=fix.png", "fusion=wsa.png"]


@pytest.mark.parametrize("sweep, match", [
    ("grid: {fusoin: [wsa, fix]}", "tiny.yaml: grid: unknown config key 'fusoin'; did you mean fusion"),
    ("base: {sac: {batch_sise: 32}}\ngrid: {seed: [0]}", "unknown config key 'sac.batch_sise'; did you mean"),
    ("grid: {fusion: [wsa, attention]}", "trial fusion=attention: bad value for fusion"),
    ("grid: {seed: [0]}\nresources: {cpus: 2}", "bad value for resources.cpus"),
    ("grids: {seed: [0]}", "unknown sweep key 'grids'; did you mean grid?"),
    ("grid: {run_dir: [a, b]}", "run_dir cannot be set in a sweep"),
    ("grid: {encoders: [[ae], [ae, nope]]}", "unknown encoder 'nope'"),
    ("grid: {seed: []}", "grid key seed has no values"),
    ("base: {task: atari/Pong, fusion: wsa}\ngrid: {encoders: [[sim_depth]]}", "needs depth images"),
])
def test_bad_sweep_files_are_one_line_exit_2(in_tmp, capsys, sweep, match):
    Path("tiny.yaml").write_text(f"name: tiny\n{sweep}\n")
    one_line_error(capsys, ["sweep", "tiny.yaml", "--dry-run"], match)


def test_local_ray_sizes_do_not_go_with_a_cluster(in_tmp, capsys):
    Path("tiny.yaml").write_text(TINY)
    assert main(["sweep", "tiny.yaml", "--address", "10.0.0.1:6379", "--cpus", "2"]) == 2
    assert "--cpus/--gpus size a local Ray" in capsys.readouterr().err


def test_missing_sweep_file_names_the_shipped_ones(in_tmp, capsys):
    assert main(["sweep", "nope.yaml"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "lift_encoders" in err and "paper_atari" in err


def test_shipped_sweeps_validate(in_tmp, capsys):
    from wsa_robot.encoders.registry import registry

    assert main(["sweep", "lift_encoders", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "18 trials" in out and "encoders=ae+seg+depth_rgb+tcn+kp,seed=2" in out
    # Where a game's skills are missing (deleted, or a game without shipped skills), validation says which, and
    # how to make them, in one line.
    missing = [e for e in ("ae_atari_pong", "ae_atari_breakout", "ae_atari_mspacman") if e not in registry()]
    code = main(["sweep", "paper_atari", "--dry-run"])
    captured = capsys.readouterr()
    if missing:
        err = captured.err.strip()
        assert code == 2 and len(err.splitlines()) == 1, err
        assert "48 of 60 trials" in err
        for name in missing:
            game = {"ae_atari_pong": "Pong", "ae_atari_breakout": "Breakout", "ae_atari_mspacman": "MsPacman"}[name]
            assert f"{name} (pretrain it: `wsa-robot pretrain --task atari/{game} --skill autoencoder`)" in err
    else:
        assert code == 0 and "60 trials" in captured.out
