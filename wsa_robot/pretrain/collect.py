"""Frames for pretraining: a random policy in the task, every camera, with depth and segmentation labels.

Frames are stored in time order, all cameras of one step side by side, so the frame of the same camera k
steps later is `k * len(cameras)` further on (the time-contrastive skill relies on it). A collection is
cached under data/frames/ so that several skills train on the same frames without rendering them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.progress import Progress

from wsa_robot.atomic import atomic_path
from wsa_robot.tasks import TaskSpec

CACHE = Path("data/frames")


@dataclass
class Frames:
    rgb: np.ndarray        # uint8 [N, H, W, 3]
    depth: np.ndarray      # float32 [N, H, W, 1], metres
    seg: np.ndarray        # uint8 [N, H, W, 1], index into SEGMENT_CLASSES
    episode: np.ndarray    # int [N]
    n_cameras: int

    def __len__(self) -> int:
        return len(self.rgb)


def _rollout(task: TaskSpec, cameras: list[str], frames_per_camera: int, image_size: int,
             episode_length: int, seed: int) -> Frames:
    from wsa_robot.envs.robosuite_env import RobosuiteEnv

    env = RobosuiteEnv(task, cameras, image_size, depth=True, seed=seed, horizon=episode_length, segmentation=True)
    rng = np.random.default_rng(seed)
    low, high = env.action_space.low, env.action_space.high
    rgb, depth, seg, episodes = [], [], [], []
    try:
        with Progress() as bar:
            job = bar.add_task(f"collecting {task.name} frames", total=frames_per_camera)
            episode, obs = 0, env.reset(seed=seed)[0]
            for _ in range(frames_per_camera):
                for c in cameras:
                    rgb.append(obs[c])
                    depth.append(obs[f"{c}_depth"])
                    seg.append(obs[f"{c}_seg"])
                    episodes.append(episode)
                obs, _, terminated, truncated, _ = env.step(rng.uniform(low, high).astype(np.float32))
                if terminated or truncated:
                    episode += 1
                    obs = env.reset()[0]
                bar.advance(job)
    finally:
        env.close()
    return Frames(np.stack(rgb), np.stack(depth), np.stack(seg), np.asarray(episodes), len(cameras))


def collect_frames(task: TaskSpec, cameras: list[str], frames_per_camera: int, image_size: int = 84,
                   episode_length: int = 100, seed: int = 0, cache: Path | None = None) -> Frames:
    """Frames of every camera under a random policy, from the cache folder (default data/frames/) when the
    same collection is there."""
    name = f"{task.name.replace('/', '_')}-{'+'.join(cameras)}-{frames_per_camera}x{image_size}-" \
           f"ep{episode_length}-seed{seed}.npz"
    path = (cache or CACHE) / name
    if path.exists():
        with np.load(path) as z:
            return Frames(z["rgb"], z["depth"], z["seg"], z["episode"], int(z["n_cameras"]))
    frames = _rollout(task, cameras, frames_per_camera, image_size, episode_length, seed)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, rgb=frames.rgb, depth=frames.depth, seg=frames.seg, episode=frames.episode,
                 n_cameras=frames.n_cameras)
    return frames


def split_by_episode(episodes: np.ndarray, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Indices of train and validation frames; validation = the last episodes, never seen in training."""
    cut = np.quantile(np.unique(episodes), 1.0 - val_fraction)
    val = episodes >= max(cut, 1)
    return np.flatnonzero(~val), np.flatnonzero(val)
