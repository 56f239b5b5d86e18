"""Held-out reconstruction MSE of each task's own autoencoder beside Lift's `ae` on the same held-out frames:
what training on the task's own scene buys over the encoder those tasks used before they had one.

    python experiments/own_vs_lift_ae.py [--out results/own_encoders.json]

Reads the frames `wsa-robot pretrain` cached in data/frames/ (collects them again, same seed, if the cache is
gone) and the held-out split it used (the last 10% of episodes). Weights are not changed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from wsa_robot.core.assets import read_manifest, verified_file
from wsa_robot.core.atomic import write_json
from wsa_robot.encoders.checkpoint import load_model
from wsa_robot.pretrain.collect import collect_frames
from wsa_robot.pretrain.frames import split_by_episode
from wsa_robot.pretrain.skills import SKILLS
from wsa_robot.core.provenance import provenance
from wsa_robot.envs.tasks import load_task

BASELINE = "ae_lift"


def held_out_mse(key: str, frames, val_idx) -> float:
    with torch.inference_mode():
        return SKILLS["autoencoder"].evaluate(load_model(verified_file(read_manifest()[key])), frames, val_idx)


def main(out: Path) -> None:
    prov = provenance()
    manifest = read_manifest()
    rows = {}
    for key, entry in manifest.items():
        if entry["skill"] != "autoencoder" or entry.get("in_channels", 3) != 3 or entry["task"].startswith("fetch/"):
            continue  # robosuite and kitchen RGB autoencoders (Fetch is another robot and scene)
        if key == BASELINE:  # Lift's own number, from the manifest (no need to render Lift's frames again)
            rows[entry["task"]] = {"val_frames": entry["val_frames"], "ae (Lift's)": entry["val_mse"]}
            continue
        for name in entry.get("tasks", [entry["task"]]):  # a shared encoder: each of its tasks
            frames = collect_frames(load_task(name), entry["cameras"], entry["frames"] // len(entry["cameras"])
                                    // len(entry.get("tasks", [name])), seed=entry["seed"])
            _, val_idx = split_by_episode(frames.episode)
            own, lift = held_out_mse(key, frames, val_idx), held_out_mse(BASELINE, frames, val_idx)
            rows.setdefault(name, {})[entry["encoder"]] = round(own, 6)
            rows[name].update({"val_frames": int(len(val_idx)), "ae (Lift's)": round(lift, 6)})
            print(f"{name:18s} {entry['encoder']:20s} {own:.6f}   Lift's ae {lift:.6f}")
    write_json(out, {"provenance": prov, "tasks": rows})
    print(f"wrote {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/own_encoders.json"))
    main(parser.parse_args().out)
