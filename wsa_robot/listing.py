"""Tables for `wsa-robot tasks` and `wsa-robot encoders`."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from wsa_robot.encoders.registry import EncoderEntry, registry
from wsa_robot.tables import Col, fitted_table
from wsa_robot.tasks import load_task, task_files


def tasks_table(width: int | None = None) -> Table:
    """`width`: the terminal's columns (None: every column); names a user copies are never split."""
    cols = [Col("task"), Col("cameras (default)", keep=1), Col("description", keep=2, wrap=True),
            Col("horizon", keep=3, justify="right"), Col("success", keep=4, wrap=True), Col("backend", keep=5)]
    rows = []
    for name in task_files():
        t = load_task(name)
        rows.append([name, "\n".join(t.cameras), t.description, str(t.horizon), t.success or "-", t.backend])
    caption = ("horizon: control steps (robosuite, gym_robotics), ALE frames (atari); "
               "any other ALE game trains as atari/<Game>, e.g. atari/Seaquest; any FrankaKitchen subset as "
               "kitchen/<subtask>[+<subtask>...] or kitchen/all, e.g. kitchen/kettle+light_switch")
    return fitted_table("tasks", cols, rows, width, caption)


def _param_count(e: EncoderEntry) -> str:
    """From the entry's cheap count when it has one; else by building it (only the small own encoders)."""
    n = e.params() if e.params is not None else (e.build().num_parameters() if e.weights_present else None)
    if not n:
        return "-"
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


def encoders_table(weights_dir: str | Path | None = None, width: int | None = None) -> Table:
    """Every registered encoder; zoo weights are looked for in `weights_dir`, $WSA_WEIGHTS_DIR, then caches.
    `width`: the terminal's columns (None: every column); at 80 the source (hub id, file) is left out first."""
    from wsa_robot.encoders.weights import ENV_VAR, searched_text

    entries = registry(weights_dir=weights_dir)
    cols = [Col("encoder"), Col("output", keep=1), Col("weights", keep=2), Col("input", keep=3, wrap=True),
            Col("params", keep=4, justify="right"), Col("source", keep=5, wrap=True)]
    rows = [[name, "x".join(map(str, e.output_shape)), "[green]present" if e.weights_present else "[red]missing",
             e.input, _param_count(e), e.source] for name, e in entries.items()]
    caption = None
    if not all(e.weights_present for e in entries.values()):
        caption = (f"missing zoo weights: put r3m_<18|34|50>.pt and save_pretrained folders named after the "
                   f"hub id (dinov2-small/, ...) in ${ENV_VAR} or the config key weights_dir, or the hub "
                   f"snapshots in the Hugging Face cache; {searched_text(weights_dir)}")
    return fitted_table("encoders", cols, rows, width, caption)
