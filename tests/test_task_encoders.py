"""Every robosuite task and the kitchen default to an encoder trained on their own frames (assets/manifest.json),
and that shipped checkpoint loads and embeds the task's camera frames. No training, no simulator."""

import numpy as np
import pytest
import torch

from wsa_robot.core.assets import read_manifest
from wsa_robot.config import load_config
from wsa_robot.encoders.registry import build_encoder
from wsa_robot.envs.tasks import load_task, task_files

ROBOSUITE = sorted(name for name in task_files() if load_task(name).backend == "robosuite")
KITCHEN = ["kitchen/microwave", "kitchen/all", "kitchen/light_switch+kettle"]  # the YAML and generated subsets


def trained_on(entry: dict, task: str) -> bool:
    """The entry's frames came from `task` (alone, or among the tasks of a shared encoder). A kitchen subset
    changes only which subtasks pay: every one shows the same scene through the same cameras."""
    tasks = entry.get("tasks", [entry["task"]])
    return task in tasks or (task.startswith("kitchen/") and all(t.startswith("kitchen/") for t in tasks))


def held_out_mse(entry: dict, task: str) -> float:
    """The task's own held-out MSE: a shared encoder records one per task."""
    return entry.get("val_mse_by_task", {}).get(task, entry["val_mse"])


def default_encoder(name: str) -> tuple[str, dict]:
    cfg = load_config([f"task={name}"])
    assert len(cfg.encoders) == 1, cfg.encoders
    encoder = cfg.encoders[0]
    assert cfg.context == f"{encoder}@{load_task(name).cameras[0]}"  # the context reads the task's own encoder too
    entries = [m for m in read_manifest().values() if m["encoder"] == encoder]
    assert len(entries) == 1, f"{name}: default encoder {encoder!r} is not one shipped checkpoint in the manifest"
    return encoder, entries[0]


def test_every_robosuite_task_and_the_kitchen_is_checked():
    assert {"Lift", "Stack", "PickPlaceCan", "Door", "NutAssemblyRound"} <= set(ROBOSUITE)


@pytest.mark.parametrize("name", ROBOSUITE + KITCHEN)
def test_task_defaults_to_an_encoder_trained_on_its_own_frames(name):
    _, entry = default_encoder(name)
    task = load_task(name)
    assert trained_on(entry, name), f"{name} defaults to an encoder trained on {entry['task']}"
    assert entry["cameras"] == task.cameras  # trained on the very cameras the task renders by default
    assert entry["skill"] == "autoencoder" and entry["steps"] >= 1000 and entry["val_frames"] > 0
    if "tasks" in entry:
        assert set(entry["val_mse_by_task"]) == set(entry["tasks"])  # a metric for each task it serves
    assert 0 < held_out_mse(entry, name) < 0.01  # held-out reconstruction, as assets/README.md lists it


@pytest.mark.parametrize("name", ROBOSUITE + ["kitchen/microwave"])
def test_default_encoder_checkpoint_loads_and_embeds_frames(name):
    encoder, entry = default_encoder(name)
    enc = build_encoder(encoder)  # sha256 checked against the manifest
    assert enc.output_shape == tuple(entry["output_shape"]) == (128,)
    assert not enc.training and not any(p.requires_grad for p in enc.parameters())
    frames = np.random.default_rng(0).integers(0, 256, (2, 84, 84, 3), dtype=np.uint8)
    with torch.inference_mode():
        z = enc(torch.from_numpy(frames))
    assert z.shape == (2, 128) and torch.isfinite(z).all() and not torch.allclose(z[0], z[1])
