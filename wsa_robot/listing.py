"""Tables for `wsa-robot tasks` and `wsa-robot encoders`."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from wsa_robot.encoders.registry import EncoderEntry, registry
from wsa_robot.tasks import load_task, task_files


def tasks_table() -> Table:
    table = Table(title="tasks")
    for col in ("task", "backend", "cameras (default)", "horizon"):
        table.add_column(col, no_wrap=True)  # names a user copies must never be split across lines
    table.add_column("success")
    table.add_column("description")
    for name in task_files():
        t = load_task(name)
        table.add_row(name, t.backend, "\n".join(t.cameras), str(t.horizon), t.success or "-", t.description)
    table.caption = ("horizon: control steps (robosuite, gym_robotics), ALE frames (atari); "
                     "any other ALE game trains as atari/<Game>, e.g. atari/Seaquest; any FrankaKitchen subset as "
                     "kitchen/<subtask>[+<subtask>...] or kitchen/all, e.g. kitchen/kettle+light_switch")
    return table


def _param_count(e: EncoderEntry) -> str:
    """From the entry's cheap count when it has one; else by building it (only the small own encoders)."""
    n = e.params() if e.params is not None else (e.build().num_parameters() if e.weights_present else None)
    if not n:
        return "-"
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


def encoders_table(weights_dir: str | Path | None = None) -> Table:
    """Every registered encoder; zoo weights are looked for in `weights_dir`, $WSA_WEIGHTS_DIR, then caches."""
    from wsa_robot.encoders.weights import ENV_VAR, searched_text

    entries = registry(weights_dir=weights_dir)
    table = Table(title="encoders")
    for col in ("encoder", "output", "input", "params", "weights", "source"):
        # never split a name a user copies; a long hub id folds rather than being cut off
        table.add_column(col, no_wrap=col in ("encoder", "output", "params"), overflow="fold")
    for name, e in entries.items():
        present = "[green]present" if e.weights_present else "[red]missing"
        table.add_row(name, "x".join(map(str, e.output_shape)), e.input, _param_count(e), present, e.source)
    if not all(e.weights_present for e in entries.values()):
        table.caption = (f"missing zoo weights: put r3m_<18|34|50>.pt and save_pretrained folders named after the "
                         f"hub id (dinov2-small/, ...) in ${ENV_VAR} or the config key weights_dir, or the hub "
                         f"snapshots in the Hugging Face cache; {searched_text(weights_dir)}")
    return table
