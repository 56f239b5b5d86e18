"""A plan's results file across machines and calls: each row is one run (label, seed), and a run whose dir is
not here (a new machine keeps only what was committed) keeps its row from the earlier file, stamped with when
and at which commit it was measured."""

from __future__ import annotations

import json
from pathlib import Path


def earlier_rows(out: Path) -> dict[tuple[str, int], dict]:
    """The rows of an earlier `out`, by (label, seed), each stamped with when and at which commit it was
    measured (kept from an earlier carry, else the file's provenance); {} when there is no readable file."""
    try:
        earlier = json.loads(out.read_text())
    except (OSError, ValueError):
        return {}
    prov = earlier.get("provenance") or {}
    stamp = {"date": prov.get("date"), "commit": prov.get("commit"), "file": str(out)}
    return {(r["label"], r["seed"]): {**r, "measured": r.get("measured") or stamp}
            for r in earlier.get("runs", []) if "label" in r and "seed" in r}
