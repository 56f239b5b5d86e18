"""Rewrite the table of shipped weights in assets/README.md from assets/manifest.json, and the comparison of each
robot task's own autoencoder with Lift's from results/own_encoders.json (no hand-copied numbers).

    python scripts/assets_table.py
"""

from __future__ import annotations

import json

from wsa_robot.core.assets import read_manifest
from wsa_robot.core.atomic import write_text
from wsa_robot.core.resources import data_dir

BEGIN, END = "<!-- table:begin -->", "<!-- table:end -->"
OWN_BEGIN, OWN_END = "<!-- own:begin -->", "<!-- own:end -->"
OWN = data_dir("results") / "own_encoders.json"  # experiments/own_vs_lift_ae.py
LIFT = "ae (Lift's)"  # its column there
METRICS = {"val_mse": "reconstruction MSE (lower is better)", "val_abs_rel": "depth abs-rel (lower is better)",
           "val_miou": "segmentation mIoU (higher is better)", "val_accuracy": "contrastive top-1 of 64 (higher)",
           "val_motion_explained": "frame change explained (higher; 0: none)",
           "val_r2": "state R^2 (higher; 0: the mean)"}
SKILL_METRICS = {"stdim": "next-frame top-1 of 32 (higher)"}  # the same key, another test


def value(m: dict) -> str:
    """The held-out metric; an encoder shared by several tasks adds each task's own (`<metric>_by_task`)."""
    by_task = m.get(f"{m['metric']}_by_task", {})
    shift = f"; twin shift {m['val_twin_shift']:.3g}" if "val_twin_shift" in m else ""  # the invariance skill's
    return f"{m[m['metric']]:.4g}" + (" (" + ", ".join(f"{t} {v:.4g}" for t, v in by_task.items()) + ")"
                                      if by_task else "") + shift


def table() -> str:
    rows = ["| encoder | skill | task | cameras | frames (train/val) | steps | held-out metric | value | train s |",
            "|---|---|---|---|---|---|---|---|---|"]
    for key, m in read_manifest().items():
        rows.append(f"| `{m['encoder']}` | {m['skill']} | {m['task']} | {', '.join(m['cameras'])} | "
                    f"{m['train_frames']}/{m['val_frames']} | {m['steps']} | "
                    f"{SKILL_METRICS.get(m['skill'], METRICS.get(m['metric'], m['metric']))} | "
                    f"{value(m)} | {m['train_seconds']:.0f} |")
    return "\n".join(rows)


def own_table() -> str:
    """Each robot task's default autoencoder beside Lift's `ae` on the task's held-out frames."""
    rows = ["| task | its encoder | held-out MSE | Lift's `ae` on the same frames |", "|---|---|---|---|"]
    for task, r in json.loads(OWN.read_text())["tasks"].items():
        own = {k: v for k, v in r.items() if k not in ("val_frames", LIFT)} or {"ae": r[LIFT]}
        for name, value in own.items():
            rows.append(f"| {task} | `{name}` | {value:.4g} | {r[LIFT]:.4g} |")
    return "\n".join(rows)


def replace(text: str, begin: str, end: str, body: str) -> str:
    head, rest = text.split(begin, 1)
    return f"{head}{begin}\n{body}\n{end}{rest.split(end, 1)[1]}"


def main() -> None:
    path = data_dir("assets") / "README.md"
    text = replace(path.read_text(), BEGIN, END, table())
    if OWN_BEGIN in text:
        text = replace(text, OWN_BEGIN, OWN_END, own_table())
    write_text(path, text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
