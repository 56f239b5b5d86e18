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
        table.caption = (f"missing zoo weights: `wsa-robot weights fetch NAME|all` downloads them (`wsa-robot "
                         f"weights list`: sources), or put r3m_<18|34|50>.pt and save_pretrained folders named "
                         f"after the hub id (dinov2-small/, ...) in ${ENV_VAR} or the config key weights_dir; "
                         f"{searched_text(weights_dir)}")
    return table


def weights_table(weights_dir: str | Path | None = None) -> Table:
    """`wsa-robot weights list`: one row per set of zoo weights (sources.py), where it is or would go."""
    from wsa_robot.encoders.sources import SOURCES, HubSource
    from wsa_robot.encoders.weights import (find_hf, find_r3m, hf_complete, read_manifest, searched_text,
                                            target_dir)

    table = Table(title="zoo weights")
    for col in ("name", "status", "official source", "path"):
        table.add_column(col, no_wrap=col in ("name", "status"), overflow="fold")
    for name, src in SOURCES.items():
        if isinstance(src, HubSource):
            found = find_hf(src.hub_id, weights_dir)
            found = found if found is not None and hf_complete(found) else None
            files = [p for p in found.iterdir() if p.is_file()] if found else []
        else:
            found = find_r3m(int(src.folder.split("_")[1]), weights_dir)
            files = [found] if found else []
        path = found or target_dir(weights_dir) / src.folder
        recorded = files and all(p.relative_to(p.parents[1]).as_posix() in read_manifest(p.parents[1])
                                 for p in files)
        status = ("[red]missing" if not files else "[green]fetched (sha256)" if recorded
                  else "[yellow]present (no sha256)")
        table.add_row(name, status, src.label, str(path))
    table.caption = (f"`wsa-robot weights fetch NAME|all [--dir DIR]` downloads into "
                     f"{target_dir(weights_dir)}; {searched_text(weights_dir)}")
    return table
