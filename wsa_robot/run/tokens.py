"""A run's token set (one token per encoder x camera, plus proprio) and the edits `train --resume` may make
to it while training: add an encoder, remove (mask) a token or an encoder, restore a removed token.

Only the config changes here; the pipeline, the agent and the replay buffer follow the config on resume
(pipeline.py masks removed tokens, agents/grow.py rebuilds an agent for added ones).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from wsa_robot.config import RunConfig
from wsa_robot.encoders.registry import registry
from wsa_robot.encoders.state import image_encoders, is_state
from wsa_robot.core.errors import UserError
from wsa_robot.fusion import FUSION_FACTS, can_grow, pixel_based
from wsa_robot.core.keys import DESIRED_GOAL, PROPRIO, is_camera_token, token_key
from wsa_robot.envs.tasks import load_task


def encoder_tokens(name: str, cameras: list[str]) -> list[str]:
    """The tokens of one encoder: one per camera (`NAME@camera`), or the one vector `state` of the oracle."""
    return [name] if is_state(name) else [token_key(name, c) for c in cameras]


def run_tokens(cfg: RunConfig, cameras: list[str]) -> list[str]:
    """Every token of the run in fusion order, removed ones included (they stay in the observation space)."""
    tokens = [t for e in cfg.encoders for t in encoder_tokens(e, cameras)]
    return tokens + ([PROPRIO] if cfg.proprio in ("token", "both") else []) + goal_tokens(cfg.task)


def goal_tokens(task_name: str) -> list[str]:
    """Goal tasks (gymnasium-robotics Fetch): the goal the agent is asked to reach is a token of its own, so
    the fusion weighs it against the cameras. achieved_goal is not one: in Push, PickAndPlace and Slide it is
    the object's true position, which the agent must see through its cameras (HER still reads it)."""
    return [DESIRED_GOAL] if load_task(task_name).goal else []


def context_key(cfg: RunConfig) -> str:
    """The token WSA/DPA read as context. A run without image encoders (encoders=state, the oracle) renders no
    camera, so a camera token named as context (the default ae@agentview) gives way to proprio."""
    if cfg.proprio in ("context", "both"):
        return PROPRIO
    if is_camera_token(cfg.context) and not image_encoders(cfg.encoders):
        return PROPRIO
    return cfg.context


def check_removed(removed: list[str], tokens: list[str], context: str) -> list[str]:
    """The removed tokens, after checking each is a token and none is the context (which WSA always reads)."""
    for key in removed:
        if key not in tokens:
            raise UserError(f"removed token {key!r} is not a token of this run; use one of: {', '.join(tokens)}")
        if key == context:
            raise UserError(f"{key} is the context token and cannot be removed; start a new run with another "
                            f"context (context=TOKEN or proprio=context)")
        if key == DESIRED_GOAL:  # zeroing it would hide the goal HER relabels and the reward is computed from
            raise UserError("desired_goal is the goal the agent must reach and cannot be removed; "
                            "remove a camera token instead")
    if removed and set(tokens) <= set(removed):
        raise UserError("removing every token leaves the agent nothing to see; keep at least one")
    return [k for k in tokens if k in removed]


@dataclass
class TokenEdit:
    """The run's config after the edit, and the event rows (`action`, `tokens`) that describe it."""
    cfg: RunConfig
    events: list[dict] = field(default_factory=list)


def _check_encoder_name(name: str, cfg: RunConfig) -> None:
    names = registry(weights_dir=cfg.weights_dir)
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3) or sorted(names)
        raise UserError(f"unknown encoder {name!r}; choose one of: {', '.join(close)} (see `wsa-robot encoders`)")


def _add(cfg: RunConfig, cameras: list[str], name: str, encoders: list[str], removed: list[str]) -> list[str]:
    """Tokens that `--add-encoder name` brings in; updates `encoders` and `removed` in place."""
    tokens = run_tokens(cfg.model_copy(update={"encoders": encoders}), cameras)
    if name in encoders or name in tokens:  # re-adding = restoring removed tokens
        targets = encoder_tokens(name, cameras) if name in encoders else [name]
        restored = [t for t in targets if t in removed]
        if not restored:
            raise UserError(f"{name} is already in this run and not removed; nothing to add")
        removed[:] = [t for t in removed if t not in restored]
        return restored
    if is_camera_token(name) or name == PROPRIO:
        raise UserError(f"{name!r} is not a token of this run; --add-encoder takes an encoder name (applied to "
                        f"every camera: {', '.join(cameras)}), NAME@camera only restores a removed token")
    if not can_grow(cfg.fusion):
        raise UserError(f"{FUSION_FACTS[cfg.fusion].fixed_tokens} and cannot take a new one; start a new run with "
                        f"encoders={','.join(encoders + [name])}, or use fusion=wsa")
    _check_encoder_name(name, cfg)
    encoders.append(name)
    return encoder_tokens(name, cameras)


def _remove(cfg: RunConfig, cameras: list[str], name: str, encoders: list[str], removed: list[str]) -> list[str]:
    """Tokens that `--remove-encoder name` masks; updates `removed` in place."""
    tokens = run_tokens(cfg.model_copy(update={"encoders": encoders}), cameras)
    if name in encoders:
        targets = encoder_tokens(name, cameras)
    elif name in tokens:
        targets = [name]
    else:
        raise UserError(f"{name!r} is neither an encoder nor a token of this run; use one of: "
                        f"{', '.join(encoders + tokens)}")
    new = [t for t in targets if t not in removed]
    if not new:
        raise UserError(f"{name} is already removed; `--add-encoder {name}` restores it")
    context = context_key(cfg)
    if context in new:
        others = [t for t in new if t != context]
        hint = f" (remove {', '.join(others)} alone to keep it)" if others else ""
        raise UserError(f"{context} is the context token and cannot be removed{hint}; start a new run with "
                        "another context (context=TOKEN or proprio=context) to drop it")
    removed.extend(new)
    return new


def edit_tokens(cfg: RunConfig, cameras: list[str], add: list[str], remove: list[str]) -> TokenEdit:
    """Apply `--add-encoder` then `--remove-encoder` names to the run's config; every mistake is a UserError."""
    if not add and not remove:
        return TokenEdit(cfg)
    if pixel_based(cfg.fusion):
        raise UserError("fusion=e2e learns from pixels and has no frozen encoders to add or remove")
    both = set(add) & set(remove)
    if both:
        raise UserError(f"{sorted(both)[0]} is both added and removed; pass it once")
    encoders, removed = list(cfg.encoders), list(cfg.removed_tokens)
    added = [t for name in add for t in _add(cfg, cameras, name, encoders, removed)]
    dropped = [t for name in remove for t in _remove(cfg, cameras, name, encoders, removed)]
    new = cfg.model_copy(update={"encoders": encoders})
    new = new.model_copy(update={"removed_tokens": check_removed(removed, run_tokens(new, cameras),
                                                                 context_key(new))})
    events = ([{"action": "add", "tokens": added}] if added else []) + \
             ([{"action": "remove", "tokens": dropped}] if dropped else [])
    return TokenEdit(new, events)
