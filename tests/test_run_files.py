"""A run dir whose config, state, eval history or checkpoint is broken: every command that reads it prints one
line naming the file and what is wrong, and exits 2 (no traceback)."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from wsa_robot.config import dump_config, load_config

from helpers import one_line_error

RUN = Path("runs/Lift/r1")


def fake_checkpoint(path: Path, steps: int = 10) -> None:
    """A zip with SB3's `data` entry: enough for every check that runs before the agent loads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("data", json.dumps({"num_timesteps": steps}))


def make_run(path: Path = RUN) -> Path:
    path.mkdir(parents=True)
    (path / "config.yaml").write_text(dump_config(load_config(["total_steps=100"])))
    fake_checkpoint(path / "checkpoints" / "model.zip")
    (path / "checkpoints" / "state.json").write_text(json.dumps({"num_timesteps": 10, "saved_at": 0.0}))
    (path / "evals.json").write_text(json.dumps([{"step": 10, "mean_return": 1.0, "success_rate": 0.0}]))
    return path


BROKEN = {  # file -> (content, what the message must say)
    "word_config": ("config.yaml", "hello\n", "config.yaml: holds str 'hello', not a mapping"),
    "list_config": ("config.yaml", "- 1\n- 2\n", "config.yaml: holds list [1, 2], not a mapping"),
    "bad_yaml": ("config.yaml", "task: [Lift\nalgo: sac\n", "config.yaml: not valid YAML at line"),
    "bad_value": ("config.yaml", None, "config.yaml: bad value for algo"),
    "no_config": ("config.yaml", "", "not a run directory (no config.yaml)"),
    "evals_json": ("evals.json", "[{\"step\": 1,", "evals.json: not valid JSON"),
    "evals_shape": ("evals.json", "{\"step\": 1}", "evals.json: holds dict"),
    "evals_row": ("evals.json", "[{\"step\": 1}]", "evals.json: row 0 has no mean_return"),
    "state_json": ("checkpoints/state.json", "{", "state.json: not valid JSON"),
    "state_steps": ("checkpoints/state.json", "{\"num_timesteps\": \"ten\"}", "state.json: num_timesteps is str"),
    "events_json": ("events.json", "nope", "events.json: not valid JSON"),
    "checkpoint": ("checkpoints/model.zip", "PK\x03\x04 truncated", "model.zip: checkpoint is corrupt"),
    "checkpoint_data": ("checkpoints/model.zip", None, "model.zip: checkpoint is corrupt (no step count)"),
}


def break_file(run: Path, case: str) -> str:
    name, content, match = BROKEN[case]
    file = run / name
    if case == "no_config":
        file.unlink()
    elif case == "bad_value":
        file.write_text(file.read_text().replace("algo: sac", "algo: dqn"))
    elif case == "checkpoint_data":
        with zipfile.ZipFile(file, "w") as z:
            z.writestr("data", json.dumps({"policy": "x"}))
    else:
        file.write_text(content)
    return match


@pytest.mark.parametrize("case", sorted(BROKEN))
@pytest.mark.parametrize("command", [["eval"], ["train", "--resume"], ["eval", "--variations", "all"]])
def test_a_broken_run_file_is_one_line_and_exit_2(capsys, in_tmp, case, command):
    run = make_run()
    match = break_file(run, case)
    err = one_line_error(capsys, [*command, str(run)], match)
    assert str(run) in err  # names the file


def test_the_most_recent_run_is_checked_too(capsys, in_tmp):
    break_file(make_run(), "word_config")
    one_line_error(capsys, ["eval"], "not a mapping")


def test_an_agent_run_for_pretraining_is_checked(capsys, in_tmp):
    run = make_run()
    break_file(run, "evals_json")
    one_line_error(capsys, ["pretrain", "--agent", str(run), "--frames", "100", "--steps", "1"], "not valid JSON")


def test_no_checkpoint_is_an_error_for_eval_only(capsys, in_tmp):
    run = make_run()
    (run / "checkpoints" / "model.zip").unlink()
    one_line_error(capsys, ["eval", str(run)], "no checkpoint")


def test_the_installed_command_names_the_file():
    """The case of the report: config.yaml holding one word, through the real entry point."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        run.mkdir()
        (run / "config.yaml").write_text("oops\n")
        exe = Path(sys.executable).with_name("wsa-robot")
        proc = subprocess.run([str(exe), "eval", str(run)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert f"{run}/config.yaml: holds str 'oops', not a mapping of config keys" in proc.stderr
