"""Frames for pretraining: a random policy in the task, every camera, kept per episode for a clean split."""

from __future__ import annotations

import numpy as np
from rich.progress import Progress

from wsa_robot.envs import make_env
from wsa_robot.tasks import TaskSpec


def collect_frames(task: TaskSpec, cameras: list[str], frames_per_camera: int, image_size: int = 84,
                   episode_length: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 [N, H, W, 3] from all cameras, and the episode index of each (for held-out episodes)."""
    env = make_env(task, cameras, image_size, seed=seed, horizon=episode_length)
    rng = np.random.default_rng(seed)
    images, episodes = [], []
    low, high = env.action_space.low, env.action_space.high
    try:
        with Progress() as bar:
            job = bar.add_task(f"collecting {task.name} frames", total=frames_per_camera)
            episode, obs = 0, env.reset(seed=seed)[0]
            while len(episodes) < frames_per_camera * len(cameras):
                images.extend(obs[c] for c in cameras)
                episodes.extend([episode] * len(cameras))
                obs, _, terminated, truncated, _ = env.step(rng.uniform(low, high).astype(np.float32))
                if terminated or truncated:
                    episode += 1
                    obs = env.reset()[0]
                bar.advance(job)
    finally:
        env.close()
    return np.stack(images), np.asarray(episodes)


def split_by_episode(episodes: np.ndarray, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Indices of train and validation frames; validation = the last episodes, never seen in training."""
    cut = np.quantile(np.unique(episodes), 1.0 - val_fraction)
    val = episodes >= max(cut, 1)
    return np.flatnonzero(~val), np.flatnonzero(val)
