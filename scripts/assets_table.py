"""Rewrite the table of shipped weights in assets/README.md from assets/manifest.json (no hand-copied numbers).

    python scripts/assets_table.py
"""

from __future__ import annotations

from wsa_robot.assets import read_manifest
from wsa_robot.atomic import write_text
from wsa_robot.resources import data_dir

BEGIN, END = "<!-- table:begin -->", "<!-- table:end -->"
METRICS = {"val_mse": "reconstruction MSE (lower is better)", "val_abs_rel": "depth abs-rel (lower is better)",
           "val_miou": "segmentation mIoU (higher is better)", "val_accuracy": "contrastive top-1 of 64 (higher)",
           "val_motion_explained": "frame change explained (higher; 0: none)"}
SKILL_METRICS = {"stdim": "next-frame top-1 of 32 (higher)"}  # the same key, another test


def table() -> str:
    rows = ["| encoder | skill | task | cameras | frames (train/val) | steps | held-out metric | value | train s |",
            "|---|---|---|---|---|---|---|---|---|"]
    for key, m in read_manifest().items():
        rows.append(f"| `{m['encoder']}` | {m['skill']} | {m['task']} | {', '.join(m['cameras'])} | "
                    f"{m['train_frames']}/{m['val_frames']} | {m['steps']} | "
                    f"{SKILL_METRICS.get(m['skill'], METRICS.get(m['metric'], m['metric']))} | "
                    f"{m[m['metric']]:.4g} | {m['train_seconds']:.0f} |")
    return "\n".join(rows)


def main() -> None:
    path = data_dir("assets") / "README.md"
    text = path.read_text()
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    write_text(path, f"{head}{BEGIN}\n{table()}\n{END}{tail}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
