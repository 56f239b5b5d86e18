"""Property-based tests (hypothesis, derandomised, a fixed number of examples so `make test` stays in budget):
whatever `key=value` a user types and however a run dir's files are damaged, the outcome is success or one
line (a UserError), never a traceback, and no checkpoint changes."""

import json
import shutil
from pathlib import Path

import pytest
import yaml
from helpers import train_tiny_lift
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wsa_robot.config import RunConfig, _keys, load_config
from wsa_robot.core.errors import UserError
from wsa_robot.run.run_dir import existing_run_dir
from wsa_robot.cli.runs_table import collect_runs, runs_json
from wsa_robot.run.spec import resolve

FUZZ = settings(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

YAML_TRAPS = ["[", "[a,", "{", "{a: [}", "'unclosed", '"unclosed', "a: b: c", "&a [*a]", "*nope", "- x", "~", "null",
              "[]", "{}", "1e400", "-1e400", "0x10", "0o777", ".inf", "-.inf", ".nan", "!!python/object:os.system",
              "!!python/object/apply:os.system [true]", "!!binary aGk=", "!!set {a}", "!custom x", "%YAML 1.2",
              "---", "...", "|\n  block", "? complex key", "2026-12-07", "yes", "no", "on", "0.", "1_000", "\t",
              "é", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\x00", "a=b=c", "key: value", "[1, [2, [3]]]", "[" * 50, "9" * 400]
values = st.one_of(
    st.sampled_from(YAML_TRAPS),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
    st.lists(st.one_of(st.integers(-5, 10**12), st.text(max_size=5)), max_size=4).map(
        lambda xs: "[" + ",".join(map(str, xs)) + "]"),
)
keys = st.one_of(st.sampled_from(_keys(RunConfig)), st.text(max_size=10), st.sampled_from(["", "=", "sac.", ".x"]))


def one_line(error: UserError) -> None:
    text = str(error)
    assert text and "\n" not in text and "Traceback" not in text, repr(text)


@FUZZ
@given(items=st.lists(st.tuples(keys, values), min_size=1, max_size=3))
def test_any_override_is_a_config_or_one_line(items):
    overrides = [f"{k}={v}" for k, v in items]
    try:
        cfg = load_config(overrides)
        resolve(cfg)  # every check a run makes before any work: tasks, cameras, encoders, context, faults
    except UserError as e:
        one_line(e)


DAMAGES = ["truncate", "garbage", "wrong_type", "drop_field", "folder", "delete", "empty"]
FILES = ["config.yaml", "checkpoints/state.json", "evals.json", "events.json", "checkpoints/model.zip",
         "checkpoints/replay_buffer.pkl"]


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    """A tiny trained Lift run with a checkpoint, an eval history and an event history."""
    root = tmp_path_factory.mktemp("fuzz")
    run = root / "base"
    import os

    cwd = os.getcwd()
    os.chdir(root)
    try:
        train_tiny_lift(run, horizon=20)
    finally:
        os.chdir(cwd)
    (run / "evals.json").write_text(json.dumps([{"step": 30, "mean_return": 1.0, "wall_s": 3.0}]))
    (run / "events.json").write_text(json.dumps([{"step": 30, "time": 1.0, "action": "remove",
                                                  "tokens": ["proprio"]}]))
    return run


def damage(path: Path, how: str, data: bytes) -> None:
    original = path.read_bytes() if path.is_file() else b""
    if how in ("folder", "delete"):
        path.unlink(missing_ok=True)
        if how == "folder":
            path.mkdir()
    elif how == "truncate":
        path.write_bytes(original[: len(data) % max(len(original), 1)])
    elif how == "garbage":
        path.write_bytes(data)
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "wrong_type":
        value = [None, 3, "text", [1, 2], {"a": 1}][len(data) % 5]
        path.write_text(yaml.safe_dump(value) if path.suffix == ".yaml" else json.dumps(value))
    elif how == "drop_field":
        parsed = yaml.safe_load(original) if path.suffix in (".yaml", ".json") else None
        if isinstance(parsed, dict) and parsed:
            parsed.pop(sorted(parsed)[len(data) % len(parsed)])
        elif isinstance(parsed, list) and parsed and isinstance(parsed[0], dict) and parsed[0]:
            parsed[0].pop(sorted(parsed[0])[len(data) % len(parsed[0])])
        else:
            path.write_bytes(original[: len(original) // 2])
            return
        path.write_text(yaml.safe_dump(parsed) if path.suffix == ".yaml" else json.dumps(parsed))


@FUZZ
@given(target=st.sampled_from(FILES), how=st.sampled_from(DAMAGES), data=st.binary(max_size=64))
def test_a_damaged_run_dir_is_read_or_refused_in_one_line(base_run, tmp_path, target, how, data):
    run = tmp_path / f"run-{abs(hash((target, how, data)))}"
    shutil.copytree(base_run, run)
    damage(run / target, how, data)
    checkpoint = run / "checkpoints/model.zip"
    before = checkpoint.read_bytes() if checkpoint.is_file() else None
    for read in (lambda: existing_run_dir(run), lambda: runs_json(collect_runs(run.parent))):
        try:
            read()
        except UserError as e:
            one_line(e)
    after = checkpoint.read_bytes() if checkpoint.is_file() else None
    assert after == before  # reading a run never writes its checkpoint
    shutil.rmtree(run)
