"""The commands as a user runs them: the installed `wsa-robot` script in a fresh process whose environment holds
only PATH and an empty HOME (no MUJOCO_GL, no caches, nothing this test process set), in an empty folder.
A new user on a headless machine met a GLFW crash here first (MuJoCo picked its display backend because
something imported mujoco before the headless backend was chosen); these tests would have seen it."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest

EXE = Path(sys.executable).with_name("wsa-robot")
# Short runs: the settings bound the steps, the episode length and the replay buffer, not the code paths
# (overlapped SAC still steps its env in a subprocess).
LIFT = ["sac.learning_starts=50", "sac.batch_size=32", "sac.buffer_size=1000", "horizon=50", "fusion_dim=64",
        "sac.net_arch=64,64", "eval_every=0", "checkpoint_every=100"]


def user_env(home: Path) -> dict[str, str]:
    """What a login shell on a fresh machine has, and nothing else."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home)}


def run_as_user(args: list[str], cwd: Path, timeout: float, exe: list[str] | None = None) -> str:
    """Run a command in `cwd` with the user's environment; assert exit 0, no traceback, no GLFW message;
    return stdout."""
    proc = subprocess.run((exe or [str(EXE)]) + args, cwd=cwd, env=user_env(cwd), capture_output=True,
                          text=True, timeout=timeout)
    said = proc.stdout + proc.stderr
    assert proc.returncode == 0, said[-3000:]
    assert "Traceback" not in said and "GLFW" not in said and "gladLoadGL" not in said, said[-3000:]
    return proc.stdout


def run_dir_of(stdout: str, cwd: Path) -> Path:
    match = re.search(r"run dir: (\S+)", stdout)
    assert match, stdout
    return cwd / match.group(1)


def check_video(run: Path, frames: range) -> None:
    video = imageio.mimread(run / "videos" / "episode_000.mp4", memtest=False)
    assert len(video) in frames
    pixels = np.stack(video).astype(float)
    assert pixels.mean() > 20 and pixels.std() > 10  # a scene, not a black or uniform frame
    png = (run / "videos" / "weights_000.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000  # a drawn plot, not an empty canvas


def test_lift_train_then_readme_eval_render(tmp_path):
    """The README's quick start on Lift, shortened: train, then `eval --render` on the most recent run."""
    run = run_dir_of(run_as_user(["train", "--task", "Lift", "total_steps=100", *LIFT], tmp_path, 600),
                     tmp_path)
    assert (run / "checkpoints" / "model.zip").exists()
    table = run_as_user(["eval", "--episodes", "1", "--render"], tmp_path, 600)
    assert "proprio" in table and "mean" in table
    check_video(run, range(50, 51))


def test_fetch_reach_train_then_eval_render(tmp_path):
    args = ["train", "--task", "fetch/Reach", "total_steps=100", "sac.learning_starts=50", "sac.batch_size=32",
            "sac.buffer_size=1000", "fusion_dim=64", "sac.net_arch=64,64", "eval_every=0"]
    run = run_dir_of(run_as_user(args, tmp_path, 600), tmp_path)
    run_as_user(["eval", str(run), "--episodes", "1", "--render"], tmp_path, 600)
    check_video(run, range(50, 51))


def test_atari_pong_train_then_eval_render(tmp_path):
    # horizon: ALE frames per game (4 per agent step): the eval game ends within 100 agent steps
    args = ["train", "--task", "atari/Pong", "total_steps=64", "n_envs=2", "ppo.n_steps=32", "ppo.batch_size=32",
            "fusion_dim=64", "horizon=400", "eval_every=0"]
    run = run_dir_of(run_as_user(args, tmp_path, 600), tmp_path)
    run_as_user(["eval", str(run), "--episodes", "1", "--render"], tmp_path, 600)
    check_video(run, range(50, 101))


# Started as a script (not -c), so that multiprocessing's forkserver imports it too: the probe then sits in
# the env subprocesses as well. It logs, per process, MUJOCO_GL at the moment mujoco is first imported.
PROBE = textwrap.dedent("""
    import os, sys

    class Probe:
        def find_spec(self, name, path=None, target=None):
            if name == "mujoco" and "mujoco" not in sys.modules:
                with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "mujoco_imports.log"), "a") as f:
                    f.write(f"{os.getpid()} {os.environ.get('MUJOCO_GL', 'unset')}\\n")
            return None

    sys.meta_path.insert(0, Probe())

    if __name__ == "__main__":
        # what a process imports before its entry function runs: the CLI, an env subprocess, a Ray worker
        import wsa_robot.cli.commands, wsa_robot.run.pipeline, wsa_robot.envs, wsa_robot.engine.ray_runner, wsa_robot.run.train
        import wsa_robot.eval.command, wsa_robot.pretrain, wsa_robot.studies.benchmark
        assert "mujoco" not in sys.modules, "importing the entry modules imported mujoco"
        assert "MUJOCO_GL" not in os.environ, "importing the entry modules set MUJOCO_GL"
        if sys.argv[1] == "library":  # an env built through the library, no CLI: make_env chooses
            from wsa_robot.config import load_config
            from wsa_robot.run.pipeline import make_vec_env, plan
            cfg = load_config(["task=Lift", "vec_env=dummy"])
            venv = make_vec_env(plan(cfg), 1, 0)
            venv.reset()
            venv.close()
            sys.exit(0)
        sys.exit(wsa_robot.cli.commands.main(sys.argv[1:]))
""")


@pytest.mark.parametrize("how", ["cli", "library"])
def test_backend_is_chosen_before_mujoco_is_imported_in_every_process(tmp_path, how):
    """cli: `train` (the trainer and its env subprocess), then `eval` (which imports mujoco before it makes an
    env); library: a pipeline's env built without the CLI."""
    probe = [sys.executable, str(tmp_path / "probe.py")]
    (tmp_path / "probe.py").write_text(PROBE)
    if how == "library":
        run_as_user(["library"], tmp_path, 300, exe=probe)
    else:
        run_as_user(["train", "--task", "Lift", "total_steps=20", "sac.learning_starts=10", "sac.batch_size=8",
                     "sac.buffer_size=100", "horizon=10", "eval_every=0", "checkpoint_every=0", "run_dir=run",
                     "--no-progress"], tmp_path, 300, exe=probe)
        run_as_user(["eval", "run", "--episodes", "1"], tmp_path, 300, exe=probe)
    imports = (tmp_path / "mujoco_imports.log").read_text().split()
    backends = dict(zip(imports[::2], imports[1::2]))  # pid -> MUJOCO_GL when that process imported mujoco
    # cli: train's own process (it records Lift's default demos with the scripted controller, demos/record.py),
    # train's env subprocess, and eval
    assert len(backends) == (3 if how == "cli" else 1), backends
    assert "unset" not in backends.values(), backends


def test_wide_listings_in_a_pipe_keep_every_column_whole(tmp_path):
    """`--wide` is for grep: piped (80 columns), a row wider than that keeps every cell whole. rich clamped the
    width to the pipe's 80 and dropped the status and source columns and cut the path."""
    weights = tmp_path / ("a_folder_name_long_enough_to_push_the_row_past_eighty_columns" * 2)
    out = run_as_user(["weights", "list", "--wide", "--dir", str(weights)], tmp_path, 120)
    row = next(line for line in out.splitlines() if line.startswith("r3m18 "))
    assert "missing" in row and "drive.google.com" in row and str(weights / "r3m_18") in row
    assert "facebook/dinov2-small, patch grid" in run_as_user(["encoders", "--wide"], tmp_path, 120)
