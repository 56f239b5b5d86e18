"""The eval table (rich) and its JSON summary."""

from __future__ import annotations

import numpy as np
from rich.table import Table

from wsa_robot.envs.atari.stall import STALL_STEPS
from wsa_robot.core.keys import SEPARATOR
from wsa_robot.core.tables import Col, fitted_table


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
        "stalled": sum(bool(r.get("stalled")) for r in rows),  # games the env ended for making no progress
    }


def _token_header(key: str) -> str:
    return key.replace("robot0_", "").replace(SEPARATOR, "\n" + SEPARATOR)  # "ae\n@eye_in_hand": split at the @


def episode_table(rows: list[dict], token_keys: list[str], width: int | None = None,
                  title: str = "evaluation (deterministic policy)") -> Table:
    """One row per episode and a final mean row; a column per token with its mean WSA weight when they all
    fit `width` (else none, and `weights_fit` is False: `weights_table` then lists the mean weight per token)."""
    has_weights = any(r.get("weights") for r in rows)
    table = _episode_table(rows, token_keys if has_weights else [], width, title)
    if has_weights and len(table.columns) < 4 + len(token_keys):  # all the weights or none
        table = _episode_table(rows, [], width, title)
    return table


def weights_fit(table: Table, token_keys: list[str]) -> bool:
    """Whether `episode_table` kept a weight column per token."""
    return len(table.columns) >= 4 + len(token_keys)


def _episode_table(rows: list[dict], tokens: list[str], width: int | None, title: str) -> Table:
    cols = [Col("ep", justify="right"), Col("return", justify="right"), Col("success", justify="right"),
            Col("length", justify="right")]
    cols += [Col(_token_header(key), keep=1, justify="right") for key in tokens]

    def weight_cells(weights: dict) -> list[str]:
        return [f"{weights[k]:.2f}" if k in weights else "-" for k in tokens]

    cells = []
    for r in rows:
        ok = "-" if r.get("success") is None else "yes" if r["success"] else "no"
        length = f"{r['length']} stalled" if r.get("stalled") else str(r["length"])
        cells.append([str(r["episode"]), f"{r['return']:.2f}", ok, length,
                      *weight_cells(r.get("weights", {}))])
    s = summary(rows)
    rate = "-" if s["success_rate"] is None else f"{s['success_rate']:.0%}"
    cells.append(["mean", f"{s['mean_return']:.2f} ± {s['std_return']:.2f}", rate, f"{s['mean_length']:.0f}",
                  *weight_cells(s["weights"])])
    caption = (f"{s['stalled']} of {len(rows)} game(s) stalled: ended after {STALL_STEPS} agent steps with no point "
               f"and no life lost (a policy that never presses FIRE); their returns are the score so far"
               if s["stalled"] else None)
    return fitted_table(title, cols, cells, width, caption=caption, row_styles=[None] * len(rows) + ["bold"])


def weights_table(weights: dict[str, float], width: int | None = None) -> Table:
    """The mean WSA weight per token, one row each: the episode table's weight columns, turned for a
    terminal too narrow for them."""
    rows = [[key.replace("robot0_", ""), f"{value:.2f}"] for key, value in weights.items()]
    return fitted_table("mean WSA weight per token", [Col("token"), Col("weight", justify="right")], rows, width)
