"""Recompute the held-out metric of a shipped skill (after a change to its metric) and update its manifest entry.

    python experiments/reevaluate_asset.py tcn_lift

Uses the same cached frames and held-out split as `wsa-robot pretrain` (frames are collected again if the
cache is gone; same seed, same frames). The weights, and so their sha256, are untouched.
"""

from __future__ import annotations

import sys

import torch

from wsa_robot.core.assets import manifest_path, read_manifest, verified_file
from wsa_robot.core.atomic import write_json
from wsa_robot.encoders.checkpoint import load_model
from wsa_robot.pretrain.collect import collect_frames
from wsa_robot.pretrain.frames import split_by_episode
from wsa_robot.pretrain.skills import SKILLS
from wsa_robot.envs.tasks import load_task


def main(key: str) -> None:
    manifest = read_manifest()
    entry = manifest[key]
    frames = collect_frames(load_task(entry["task"]), entry["cameras"], entry["frames"] // len(entry["cameras"]),
                            seed=entry["seed"])
    _, val_idx = split_by_episode(frames.episode)
    skill = SKILLS[entry["skill"]]
    with torch.inference_mode():
        value = skill.evaluate(load_model(verified_file(entry)), frames, val_idx)
    print(f"{key}: {skill.metric} {entry.get(skill.metric)} -> {value:.6f}")
    entry[skill.metric] = round(value, 6)
    write_json(manifest_path(), manifest)


if __name__ == "__main__":
    main(sys.argv[1])
