"""Issue 7.4: SIGKILL a training run at random moments, resume it each time; no file is ever half-written,
the step counter only moves forward and the run still completes."""

import json
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from wsa_robot.agents import load_agent
from wsa_robot.config import read_run_config
from wsa_robot.run.replay_file import load_replay
from wsa_robot.run.run_dir import RunDir

from helpers import wait_for

TINY = ["total_steps=2000", "checkpoint_every=25", "eval_every=50", "eval_episodes=1", "horizon=25",
        "cameras=agentview", "sac.learning_starts=50", "sac.batch_size=16", "sac.buffer_size=1000",
        "fusion_dim=32", "sac.net_arch=32,32", "vec_env=dummy", "torch_threads=1"]


def files_are_whole(run: Path) -> int:
    """Every file a kill could cut parses and loads; returns the checkpointed step (0 before the first)."""
    cfg = read_run_config(run / "config.yaml")
    evals = run / "evals.json"
    if evals.exists():
        assert isinstance(json.loads(evals.read_text()), list)
    state = run / "checkpoints" / "state.json"
    if not state.exists():
        assert not (run / "checkpoints" / "model.zip").exists()  # state.json is written last
        return 0
    step = json.loads(state.read_text())["num_timesteps"]
    model_file = run / "checkpoints" / "model.zip"
    assert zipfile.ZipFile(model_file).testzip() is None
    model = load_agent(cfg, model_file, None)
    assert model.num_timesteps >= step  # a kill between model.zip and state.json leaves state.json behind
    assert load_replay(run / "checkpoints" / "replay_buffer.pkl").pos >= 0
    return step


def test_sigkill_at_random_moments_and_resume(in_tmp):
    rng = random.Random(7)
    run = Path("run")
    exe = str(Path(sys.executable).with_name("wsa-robot"))
    state = run / "checkpoints" / "state.json"
    steps, kills, logs = [0], 0, []
    while kills < 5:
        argv = [exe, "train", f"run_dir={run}", *TINY] if not kills else [exe, "train", "--resume", str(run)]
        logs.append(Path(f"log{len(logs)}.txt"))
        started = time.time_ns()
        with open(logs[-1], "w") as log:
            proc = subprocess.Popen(argv + ["--no-progress"], stdout=log, stderr=subprocess.STDOUT)
        if not kills:  # the first kill lands anywhere after the run dir holds its config: mostly before a checkpoint
            assert wait_for(lambda: (run / "config.yaml").exists() or proc.poll() is not None, 120)
            time.sleep(rng.uniform(0.0, 3.0))
        else:  # the others after this process wrote a checkpoint, within the next ~25 steps (or inside a save)
            assert wait_for(lambda: (state.exists() and state.stat().st_mtime_ns > started)
                            or proc.poll() is not None, 120), logs[-1].read_text()
            time.sleep(rng.uniform(0.0, 0.6))
        proc.kill()
        kills += 1
        assert proc.wait() == -9, logs[-1].read_text()  # killed, not ended by an error
        steps.append(files_are_whole(run))
        assert steps[-1] >= steps[-2], (steps, logs[-1].read_text())

    # what no kill of an atomic writer leaves, but a disk can: a cut replay buffer, a stray temp file
    replay = run / "checkpoints" / "replay_buffer.pkl"
    replay.write_bytes(replay.read_bytes()[:1000])
    (run / "checkpoints" / ".model.zip.x1y2.tmp").write_bytes(b"PK\x03\x04")
    total = (RunDir(run).checkpoint_step() // 50 + 2) * 50  # end the run where it stands: 50 to 100 more steps
    final = subprocess.run([exe, "train", "--resume", str(run), f"total_steps={total}", "--no-progress"],
                           capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stdout + final.stderr
    assert "deleted 1 half-written temp file(s)" in final.stdout
    assert f"replay buffer {replay} is unreadable (" in final.stdout and "resuming with an empty one" in final.stdout
    assert files_are_whole(run) == total and read_run_config(run / "config.yaml").total_steps == total
    evals = json.loads((run / "evals.json").read_text())
    assert [e["step"] for e in evals] == sorted({e["step"] for e in evals}) and evals[-1]["step"] == total
    assert not list(run.rglob(".*.tmp"))
    assert steps[-1] > 0, f"no checkpoint between kills: {steps}"
