"""Tables for `wsa-robot tasks` and `wsa-robot encoders`."""

from __future__ import annotations

# Imports inside functions: the weights finders (huggingface_hub), so the listing of tasks starts fast.

from pathlib import Path

from rich.table import Table

from wsa_robot.encoders.registry import EncoderEntry, registry
from wsa_robot.core.tables import Col, fitted_table
from wsa_robot.envs.tasks import load_task, task_files


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
    # the state oracle's size depends on the task
    rows = [[name, "x".join(map(str, e.output_shape)) or "per task",
             "[green]present" if e.weights_present else "[red]missing", e.input, _param_count(e), e.source]
            for name, e in entries.items()]
    caption = None
    if not all(e.weights_present for e in entries.values()):
        caption = (f"missing zoo weights: `wsa-robot weights fetch NAME|all` downloads them (`wsa-robot "
                   f"weights list`: sources), or put r3m_<18|34|50>.pt and save_pretrained folders named "
                   f"after the hub id (dinov2-small/, ...) in ${ENV_VAR} or the config key weights_dir; "
                   f"{searched_text(weights_dir)}")
    return fitted_table("encoders", cols, rows, width, caption)


def weights_table(weights_dir: str | Path | None = None, width: int | None = None) -> Table:
    """`wsa-robot weights list`: one row per set of zoo weights (sources.py), where it is or would go.
    `width`: the terminal's columns (None: every column); the path goes first, then the source."""
    from wsa_robot.encoders.sources import SOURCES, HubSource
    from wsa_robot.encoders.weights import (find_hf, find_r3m, hf_complete, read_manifest, searched_text,
                                            target_dir)

    cols = [Col("name"), Col("status", keep=1), Col("official source", keep=2, wrap=True), Col("path", keep=3)]
    rows = []
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
        rows.append([name, status, src.label, str(path)])
    caption = (f"`wsa-robot weights fetch NAME|all [--dir DIR]` downloads into "
               f"{target_dir(weights_dir)}; {searched_text(weights_dir)}")
    return fitted_table("zoo weights", cols, rows, width, caption)
