"""Tables for `wsa-robot tasks` and `wsa-robot encoders`."""

from __future__ import annotations

from rich.table import Table

from wsa_robot.encoders.registry import registry
from wsa_robot.tasks import load_task, task_files


def tasks_table() -> Table:
    table = Table(title="tasks")
    for col in ("task", "backend", "cameras (default)", "horizon"):
        table.add_column(col, no_wrap=True)  # names a user copies must never be split across lines
    table.add_column("success")
    table.add_column("description")
    for name in task_files():
        t = load_task(name)
        table.add_row(name, t.backend, "\n".join(t.cameras), str(t.horizon), t.success, t.description)
    return table


def encoders_table() -> Table:
    table = Table(title="encoders")
    for col in ("encoder", "family", "output", "input", "params", "weights", "source"):
        table.add_column(col)
    for name, e in registry().items():
        params = f"{e.build().num_parameters():,}" if e.weights_present else "-"
        present = "[green]present" if e.weights_present else f"[red]missing ({e.weights})"
        table.add_row(name, e.family, "x".join(map(str, e.output_shape)), e.input, params, present, e.source)
    return table
