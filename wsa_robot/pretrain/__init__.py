"""`wsa-robot pretrain`: train the project's own encoders from simulator frames and ship them in assets/."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from wsa_robot.core.assets import add_to_manifest
from wsa_robot.encoders.checkpoint import SKILL_NAMES, save_model
from wsa_robot.encoders.registry import built_in_names
from wsa_robot.core.errors import UserError
from wsa_robot.envs.robosuite.experts import has_expert
from wsa_robot.envs import checked_visual_mix
from wsa_robot.envs.visual_mix import VARIATION_SEEDS
from wsa_robot.pretrain.collect import collect_frames, labels
from wsa_robot.pretrain.frames import split_by_episode
from wsa_robot.pretrain.skills import SKILLS, skill_output_shape
from wsa_robot.pretrain.trainer import train_skill
from wsa_robot.core.resources import data_dir
from wsa_robot.envs.tasks import check_cameras, load_task


def pretrain(task_name: str, skill_name: str, frames_per_camera: int = 3000, steps: int = 3000,
             cameras: list[str] | None = None, out_dir: Path | None = None, seed: int = 0,
             batch_size: int = 32, episode_length: int | None = None, cache: Path | None = None,
             agent_run: Path | None = None, agent_fraction: float = 0.5, name: str | None = None,
             vary: list[str] | None = None, hold_out: str | None = None,
             expert_fraction: float = 0.0) -> dict[str, Any]:
    """Collect frames with a random policy, train the skill, save weights + manifest entry; return the entry.
    `episode_length`: random-policy steps per episode (default: 100 for robosuite, whole games for Atari).
    `agent_run`: a trained run of the task plays `agent_fraction` of the episodes instead.
    `name`: the encoder's name (its weights' file stem and manifest key); see `encoder_name`.
    `vary`: the visual variation kinds the episodes are shown under (["all"]: every one the task has), less
    `hold_out`, the kind left out so that a test on it is of generalisation (envs/visual_mix.py).
    `expert_fraction`: the share of episodes the task's scripted PRIVILEGED controller plays."""
    if skill_name not in SKILL_NAMES:
        raise UserError(f"unknown skill {skill_name!r}; choose one of: {', '.join(SKILL_NAMES)}")
    skill = SKILLS[skill_name]
    name = encoder_name(skill.encoder, task_name, name, agent_run is not None)
    task = load_task(task_name)
    cameras = check_cameras(task, cameras or task.cameras)
    missing = [label for label in skill.needs if label not in labels(task)]
    if missing:
        usable = [s.name for s in SKILLS.values() if all(label in labels(task) for label in s.needs)]
        what = "a frame stack (two consecutive frames)" if missing[0] == "stack" else f"{missing[0]} labels"
        raise UserError(f"skill {skill.name} learns from {what}, which task {task.name} "
                        f"({task.backend}) does not give; choose one of: {', '.join(usable)}")
    visuals = visual_mix(task, vary, hold_out)
    twins = "twin" in skill.needs
    if twins and visuals is None:
        raise UserError(f"skill {skill.name} learns from two views of each step under different visual variations: "
                        "add --vary all (and --hold-out KIND to keep one kind for the test)")
    if expert_fraction and not has_expert(task.env_id):
        raise UserError(f"--expert-fraction: task {task.name} has no scripted controller "
                        "(envs/robosuite/experts.py); drop it")
    frames = collect_frames(task, cameras, frames_per_camera, episode_length=episode_length, seed=seed,
                            cache=cache, agent_run=agent_run, agent_fraction=agent_fraction, visuals=visuals,
                            expert_fraction=expert_fraction, twins=twins)
    provenance = "random-policy frames" + (f" mixed with {agent_fraction:.0%} of episodes played by run "
                                            f"{agent_run}" if agent_run else "") + ", `wsa-robot pretrain`"
    if expert_fraction:
        provenance += (f"; {expert_fraction:.0%} of episodes played by the task's scripted PRIVILEGED controller "
                       "(it reads the simulator)")
    extra = {}
    if visuals:
        provenance += (f"; each episode under one of {', '.join(visuals.kinds)} (variation seeds "
                       f"{VARIATION_SEEDS.start}-{VARIATION_SEEDS.stop - 1}) or intact")
        extra["visuals"] = {"kinds": list(visuals.kinds), "held_out": visuals.held_out,
                            "seeds": [VARIATION_SEEDS.start, VARIATION_SEEDS.stop - 1]}
    if twins:
        provenance += "; every step rendered twice, under two different draws of that mix (twin views)"
    if "state" in skill.needs:
        provenance += "; PRIVILEGED labels: the simulator's object state and the robot's proprio (pretraining only)"
    return train_and_save(skill.name, frames, task.name, cameras, steps, out_dir, seed, batch_size,
                          provenance=provenance, name=name, extra=extra)


def visual_mix(task, vary: list[str] | None, hold_out: str | None):
    """The checked mix of the CLI's --vary/--hold-out (envs.checked_visual_mix)."""
    return checked_visual_mix(task, vary, hold_out)


def train_and_save(skill_name: str, frames: Any, task_name: str, cameras: list[str], steps: int,
                   out_dir: Path | None = None, seed: int = 0, batch_size: int = 32, device: str = "cpu",
                   provenance: str = "random-policy frames, `wsa-robot pretrain`",
                   name: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train a skill on collected Frames, save its weights and manifest entry in `out_dir` (default assets/)
    under `name` (default: `asset_key`). Needs no simulator: scripts/pretrain_atari.py runs it on frames
    collected elsewhere."""
    skill = SKILLS[skill_name]
    train_idx, val_idx = split_by_episode(frames.episode)
    if not len(val_idx):
        raise UserError(f"the {len(frames)} frames of {task_name} hold a single episode, none is left to "
                        "validate on; collect more frames (--frames)")
    model, metrics = train_skill(skill, frames, train_idx, val_idx, steps=steps, seed=seed, batch_size=batch_size,
                                 device=device)
    key = name or asset_key(skill.encoder, task_name)
    weights = (out_dir or data_dir("assets")) / f"{key}.pt"
    save_model(model, weights)
    entry = {
        "encoder": skill.encoder if task_name == "Lift" and not name else key, "skill": skill.name, "task": task_name,
        "cameras": cameras, "image_size": model.config["image_size"], "in_channels": frames.channels,
        "output_shape": list(skill_output_shape(model)),
        "frames": int(len(frames)), "train_frames": int(len(train_idx)), "val_frames": int(len(val_idx)),
        "steps": steps, "batch_size": batch_size, "lr": skill.lr, "metric": skill.metric,
        **{k: round(v, 6) if isinstance(v, float) else v for k, v in metrics.items()},
        "seed": seed, "created": time.strftime("%Y-%m-%d"), "provenance": provenance, **(extra or {}),
    }
    return add_to_manifest(key, weights, entry, out_dir)


def asset_key(encoder: str, task_name: str) -> str:
    """`ae` + `atari/Pong` -> `ae_atari_pong`: the weights' file stem and manifest key."""
    return f"{encoder}_{task_name.lower().replace('/', '_')}"


AGENT_SUFFIX = "_agent"  # the default name of a skill pretrained on a run's play: it never replaces the shipped one
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


def encoder_name(encoder: str, task_name: str, name: str | None, with_agent: bool) -> str | None:
    """The name a pretrained skill is saved and registered under: `name` if given (checked), else
    `asset_key` (a retrained shipped skill replaces its file), with `_agent` added when a trained run played
    some of the frames, so that the skill pretrained on random play stays as it is. None: the default key."""
    if name is None:
        return asset_key(encoder, task_name) + AGENT_SUFFIX if with_agent else None
    if not NAME_PATTERN.fullmatch(name):
        raise UserError(f"--name {name!r} is not a usable encoder name; use lower-case letters, digits and "
                        "underscores, starting with a letter (e.g. stdim_atari_breakout_agent)")
    if name in built_in_names():
        raise UserError(f"--name {name!r} is a built-in encoder's name; choose another")
    return name
