"""Deterministic episodes of a trained agent on one env; per-step WSA weights, optional frames for video."""

from __future__ import annotations

from typing import Callable

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv

from wsa_robot.agents.acting import act

FrameHook = Callable[[dict[str, np.ndarray], np.ndarray | None, int, float], None]


def run_episode(model: BaseAlgorithm, venv: VecEnv, on_frame: FrameHook | None = None) -> dict:
    """One deterministic episode; success = the task's success signal was reached at any step, None when the
    env gives no success signal (Atari games). `on_frame` gets the env's full-quality video frames (an env
    made with video_size), not the agent's view. `stalled`: the env ended the game early because nothing
    happened in it (envs/atari/env.py StallLimit)."""
    obs = venv.reset()
    total, length, success, weights, stalled = 0.0, 0, None, [], False
    while True:
        action, w = act(model, obs, deterministic=True)  # the weights of the forward that chose the action
        w = None if w is None else w[0]
        if w is not None:
            weights.append(w)
        if on_frame is not None:
            on_frame(venv.env_method("video_frames", indices=[0])[0], w, length, total)
        obs, reward, done, info = venv.step(action)
        total += float(reward[0])
        length += 1
        if "is_success" in info[0]:
            success = bool(success) or bool(info[0]["is_success"])
        if done[0]:
            stalled = bool(info[0].get("stalled", False))
            break
    return {"return": total, "success": success, "length": length, "stalled": stalled,
            "weights_per_step": np.asarray(weights) if weights else None}


def run_episodes(model: BaseAlgorithm, venv: VecEnv, n: int, token_keys: list[str],
                 on_episode_start: Callable[[int], FrameHook | None] | None = None,
                 on_episode_end: Callable[[int, dict], None] | None = None) -> list[dict]:
    rows = []
    for ep in range(n):
        hook = on_episode_start(ep) if on_episode_start else None
        result = run_episode(model, venv, hook)
        w = result["weights_per_step"]
        mean_w = {} if w is None else dict(zip(token_keys, map(float, w.mean(0))))
        rows.append({"episode": ep, "return": result["return"], "success": result["success"],
                     "length": result["length"], "stalled": result["stalled"], "weights": mean_w})
        if on_episode_end:
            on_episode_end(ep, result)
    return rows
