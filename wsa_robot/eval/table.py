"""The eval table (rich) and its JSON summary."""

from __future__ import annotations

import numpy as np
from rich.table import Table


def success_rate(rows: list[dict]) -> float | None:
    """The fraction of episodes that succeeded; None when the task has no success signal (Atari)."""
    known = [bool(r["success"]) for r in rows if r.get("success") is not None]
    return float(np.mean(known)) if known else None


def summary(rows: list[dict]) -> dict:
    """Mean/std of return, success rate (None without a success signal), mean length and mean weight per
    token, as plain floats."""
    returns = np.array([r["return"] for r in rows], dtype=float)
    tokens = sorted({k for r in rows for k in r.get("weights", {})})
    return {
        "episodes": len(rows),
        "mean_return": float(returns.mean()), "std_return": float(returns.std()),
        "success_rate": success_rate(rows),
        "mean_length": float(np.mean([r["length"] for r in rows])),
        "weights": {k: float(np.mean([r["weights"][k] for r in rows if k in r.get("weights", {})])) for k in tokens},
    }


def episode_table(rows: list[dict], token_keys: list[str]) -> Table:
    """One row per episode and a final mean row; a column per token with its mean WSA weight."""
    has_weights = any(r.get("weights") for r in rows)
    table = Table(title="evaluation (deterministic policy)")
    for col in ["ep", "return", "success", "length"]:
        table.add_column(col, justify="right", no_wrap=True)
    for key in token_keys if has_weights else []:  # "ae\n@eye_in_hand": long token names split at the @
        table.add_column(key.replace("robot0_", "").replace("@", "\n@"), justify="right", no_wrap=True)

    def weight_cells(weights: dict) -> list[str]:
        return [f"{weights[k]:.2f}" if k in weights else "-" for k in token_keys] if has_weights else []

    for r in rows:
        ok = "-" if r.get("success") is None else "yes" if r["success"] else "no"
        table.add_row(str(r["episode"]), f"{r['return']:.2f}", ok, str(r["length"]),
                      *weight_cells(r.get("weights", {})))
    s = summary(rows)
    rate = "-" if s["success_rate"] is None else f"{s['success_rate']:.0%}"
    table.add_row("mean", f"{s['mean_return']:.2f} ± {s['std_return']:.2f}", rate,
                  f"{s['mean_length']:.0f}", *weight_cells(s["weights"]), style="bold")
    return table
