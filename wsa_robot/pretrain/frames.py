"""A collection of pretraining frames and its file format. Needs numpy only, so a skill can train from a saved
collection on a machine without the simulators (e.g. a GPU box: scripts/pretrain_atari.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wsa_robot.core.atomic import atomic_path


@dataclass
class Frames:
    images: np.ndarray          # uint8 [N, H, W, C]: RGB (C=3), or an Atari 4-frame grey stack (C=4)
    depth: np.ndarray | None    # float32 [N, H, W, 1], metres; None where the backend has no depth
    seg: np.ndarray | None      # uint8 [N, H, W, 1], index into SEGMENT_CLASSES; None without segmentation
    episode: np.ndarray         # int [N]
    n_cameras: int
    device: str = "cpu"         # where skills put the batches they draw (the model's device)
    # float32 [N, K]: PRIVILEGED, the simulator's object state and the robot's proprio at the frame's step (the
    # scene-state skill's target, pretraining only); None where the backend gives none
    state: np.ndarray | None = None
    # uint8 like images: the same step and camera under another variation of the collection's mix (the
    # scene-invariance skill's second view); None unless collected with twins
    twin: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.images)

    @property
    def channels(self) -> int:
        return self.images.shape[-1]


def save_frames(path: Path, frames: Frames, compressed: bool = False) -> None:
    """Atomically. `compressed`: zlib, and frame stacks as their newest frames when the stacks can be rebuilt
    from them exactly (consecutive steps of one camera): small enough to carry to another machine."""
    arrays = {"rgb": frames.images, "episode": frames.episode, "n_cameras": frames.n_cameras}  # "rgb": older caches
    if compressed and frames.n_cameras == 1 and frames.channels > 1 and frames.depth is None:
        newest = frames.images[..., -1]
        if np.array_equal(restack(newest, frames.episode, frames.channels), frames.images):
            arrays = {"newest": newest, "stack": frames.channels, "episode": frames.episode, "n_cameras": 1}
    arrays.update({k: v for k, v in (("depth", frames.depth), ("seg", frames.seg), ("state", frames.state),
                                                        ("twin", frames.twin))
                   if v is not None})
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        (np.savez_compressed if compressed else np.savez)(f, **arrays)


def restack(newest: np.ndarray, episode: np.ndarray, stack: int) -> np.ndarray:
    """[N, H, W] consecutive frames -> [N, H, W, stack] stacks, oldest first, padded at an episode's start with
    its first frame (as gymnasium's FrameStackObservation pads after a reset)."""
    n = len(newest)
    idx = np.arange(n)[:, None] + np.arange(1 - stack, 1)[None, :]   # [N, stack]: t-3 .. t
    start = np.searchsorted(episode, episode, side="left")            # first index of each frame's episode
    idx = np.maximum(idx, start[:, None])
    return np.ascontiguousarray(np.moveaxis(newest[idx], 1, -1))


def load_frames(path: Path) -> Frames:
    with np.load(path) as z:
        if "newest" in z.files:
            return Frames(restack(z["newest"], z["episode"], int(z["stack"])), None, None, z["episode"], 1)
        return Frames(z["rgb"], z["depth"] if "depth" in z.files else None,
                      z["seg"] if "seg" in z.files else None, z["episode"], int(z["n_cameras"]),
                      state=z["state"] if "state" in z.files else None,
                      twin=z["twin"] if "twin" in z.files else None)


def split_by_episode(episodes: np.ndarray, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Indices of train and validation frames; validation = the last episodes, never seen in training."""
    cut = np.quantile(np.unique(episodes), 1.0 - val_fraction)
    val = episodes >= max(cut, 1)
    return np.flatnonzero(~val), np.flatnonzero(val)
