"""Every listing the CLI prints is readable at 80 columns (and so when piped): no line is wider, and no word
of a cell is split across lines or cut off. A word split or cut shows as fewer whole occurrences of it in the
rendered text than in the table's cells."""

import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from wsa_robot.core.tables import Col, fitted_table

from test_run_files import make_run

WIDTH = 80


def render(renderable, width: int = WIDTH) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def words_of(table) -> Counter:
    """Every word of every cell and header of the table as built (before any wrapping)."""
    words = Counter()
    for column in table.columns:
        header = column.header.plain if isinstance(column.header, Text) else str(column.header)
        words.update(header.split())
        for cell in column._cells:
            words.update((cell.plain if isinstance(cell, Text) else Text.from_markup(str(cell)).plain).split())
    return words


def assert_readable(table, width: int = WIDTH) -> str:
    out = render(table, width)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width, out
    for word, n in words_of(table).items():
        whole = len(re.findall(rf"(?<!\S){re.escape(word)}(?!\S)", out))
        assert whole >= n, f"{word!r} is split or cut off ({whole} of {n} whole):\n{out}"
    return out


def test_the_check_catches_a_split_word():
    """The check itself: rich's default folding of a long word at 80 columns fails it."""
    from rich.table import Table

    table = Table()
    for name in ("encoder", "source"):
        table.add_column(name)
    table.add_row("x" * 40, "depth-anything/Depth-Anything-V2-Small-hf, depth pooled " * 2)
    with pytest.raises(AssertionError, match="split or cut off"):
        assert_readable(table)


def test_encoders_at_80_columns():
    from wsa_robot.cli.listing import encoders_table

    table = encoders_table(width=WIDTH)
    out = assert_readable(table)
    assert "kp_atari_breakout_features" in out and "dinov2_s_grid" in out and "384x16x16" in out
    assert "left out at 80 columns: source (--wide shows them)" in " ".join(out.split())
    assert out.count("\n") < len(table.rows) + 12  # one line per encoder, plus title, header, caption


def test_encoders_wide_has_every_column():
    from wsa_robot.cli.listing import encoders_table

    out = render(encoders_table(width=None), 400)
    assert "facebook/dinov2-small, patch grid" in out and "left out" not in out


def test_weights_list_at_80_columns(tmp_path):
    from wsa_robot.cli.listing import weights_table

    out = assert_readable(weights_table(tmp_path, width=WIDTH))
    assert "r3m18" in out and "dinov2_s" in out and "missing" in out


def test_tasks_at_80_columns():
    from wsa_robot.cli.listing import tasks_table

    out = assert_readable(tasks_table(width=WIDTH))
    assert "NutAssemblyRound" in out and "robot0_eye_in_hand" in out


@pytest.mark.parametrize("tokens", [
    ["ae@agentview", "ae@robot0_eye_in_hand"],
    [f"{e}@{c}" for e in ("ae", "seg", "depth_rgb") for c in ("agentview", "robot0_eye_in_hand")] + ["proprio"],
])
def test_eval_tables_at_80_columns(tokens):
    from wsa_robot.run.eval_table import episode_table, summary, weights_fit, weights_table

    rows = [{"episode": i, "return": 123.456 * i, "success": i % 2 == 0, "length": 200,
             "weights": {k: 1 / len(tokens) for k in tokens}} for i in range(3)]
    table = episode_table(rows, tokens, WIDTH)
    out = assert_readable(table)
    assert "123.46 ± 100.80" in out  # the mean row, never wrapped at its spaces
    if weights_fit(table, tokens):
        assert len(tokens) == 2 and "@robot0_eye_in_hand" not in out and "@eye_in_hand" in out
    else:  # seven tokens do not fit beside the episode columns: they are listed below instead
        assert len(tokens) == 7
        out = assert_readable(weights_table(summary(rows)["weights"], WIDTH))
        assert "depth_rgb@eye_in_hand" in out


def test_conditions_table_at_80_columns():
    from wsa_robot.eval.conditions import conditions_table

    long = "with noise:all:sigma=0.1, camera_dropout:agentview:p=0.5, freeze:robot0_eye_in_hand:p=0.25"
    s = {"mean_return": 12.5, "std_return": 1.25, "success_rate": 0.4}
    assert_readable(conditions_table({"without faults": s, long: s}, WIDTH))


def test_sweep_tables_at_80_columns(in_tmp):
    from test_sweep import fake_trial
    from wsa_robot.sweep.command import sweep_command

    Path("s.yaml").write_text("""
name: s
base: {task: Lift, total_steps: 200}
grid: {encoders: [[ae], [ae, seg, depth_rgb, tcn, kp]], fusion: [wsa, fix], seed: [0, 1]}
""")
    root = in_tmp / "runs" / "sweeps" / "s"
    for enc in ("ae", "ae+seg+depth_rgb+tcn+kp"):
        for fusion in ("wsa", "fix"):
            for seed in (0, 1):
                fake_trial(root, f"encoders={enc},fusion={fusion},seed={seed}", [(200, 123.4 + seed, 0.5)], 200)
    for flag in ("--report-only", "--dry-run"):
        console = Console(width=WIDTH, file=io.StringIO(), color_system=None)
        printed = []
        console.print = lambda *a, _p=console.print, **k: (printed.extend(a), _p(*a, **k))[1]
        assert sweep_command("s.yaml", report_only=flag == "--report-only", dry_run=flag == "--dry-run",
                             console=console) == 0
        tables = [t for t in printed if hasattr(t, "columns")]
        assert tables, flag
        for table in tables:
            assert_readable(table)


def test_runs_table_at_80_columns(in_tmp):
    from wsa_robot.cli.runs_table import collect_runs, runs_table

    make_run(Path("runs/Lift/20250101-120000"))
    make_run(Path("runs/sweeps/lift_encoders/encoders=ae+seg+depth_rgb+tcn+kp,seed=2"))
    broken = make_run(Path("runs/Lift/broken"))
    (broken / "config.yaml").write_text("oops\n")
    table = runs_table(collect_runs(Path("runs")), Path("runs"), WIDTH)
    out = assert_readable(table)
    assert "broken: runs/Lift/broken/config.yaml: holds str 'oops'" in " ".join(out.split())


def test_a_column_too_narrow_for_the_terminal_is_left_out_not_folded():
    cols = [Col("name"), Col("prose", keep=1, wrap=True), Col("id", keep=2)]
    table = fitted_table("t", cols, [["a" * 30, "some words that wrap " * 4, "b" * 40]], WIDTH)
    out = assert_readable(table)
    assert "b" * 40 not in out and "left out at 80 columns: id" in out
    assert "b" * 40 in render(fitted_table("t", cols, [["a" * 30, "x", "b" * 40]], None), 200)


def test_runs_command_json_and_order(in_tmp, capsys):
    import os
    import time

    from wsa_robot.cli.commands import main

    old, new = make_run(Path("runs/Lift/old")), make_run(Path("runs/Lift/new"))
    os.utime(old / "evals.json", (time.time() - 100, time.time() - 100))
    for f in (old / "config.yaml", old / "checkpoints" / "model.zip", old / "checkpoints" / "state.json"):
        os.utime(f, (time.time() - 100, time.time() - 100))
    (new / "checkpoints" / "state.json").write_text(json.dumps({"num_timesteps": 10, "saved_at": 0, "wall_s": 75}))
    assert main(["runs", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["run"] for r in rows] == ["runs/Lift/new", "runs/Lift/old"]
    assert rows[0] | {"updated": None} == {
        "run": "runs/Lift/new", "task": "Lift", "algo": "sac", "fusion": "wsa", "encoders": rows[0]["encoders"],
        "seed": rows[0]["seed"], "steps": 10, "total_steps": 100, "finished": False, "eval_step": 10,
        "eval_return": 1.0, "eval_success": 0.0, "wall_s": 75.0, "updated": None, "error": None}
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert out.index("Lift/new") < out.index("Lift/old") and "1m15s" not in out  # wall left out at 80
    assert main(["runs", "--wide"]) == 0 and "1m15s" in capsys.readouterr().out
    assert main(["runs", "no/such/dir"]) == 2
