"""The replay buffer's checkpoint file: only the rows written so far.

stable-baselines3 pickles the whole preallocated buffer, written or not. For E2E on Lift (two 84x84 cameras,
obs and next_obs, 100k rows) that is 8.5 GB at any step count, and a stop's save of it was killed half-written
(loading it took 22 s; writing and fsyncing it was the slow part). Until the buffer wraps, every array with
one row per buffer slot is cut to the rows written (`pos`) before pickling and padded back with zeros on load,
so the file grows with the run. A full buffer is saved whole. Files written by SB3's own `save_replay_buffer`
load unchanged.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # this module stays light: run_dir imports it, and unpickling brings SB3 in when needed
    from stable_baselines3.common.buffers import ReplayBuffer

# set on the pickled buffer only: the attributes cut to `pos` rows, which load_replay pads back
_TRIMMED = "_wsa_trimmed_rows"


def _row_arrays(buffer: "ReplayBuffer") -> dict[str, Any]:
    """The buffer's per-slot storage: arrays (or dicts of arrays, for Dict observations) shaped
    [buffer_size, n_envs, ...], as SB3 lays out every transition field (HER's episode bookkeeping too; its
    per-env `_current_ep_start` is [n_envs] and stays whole)."""
    def per_slot(v: Any) -> bool:
        return isinstance(v, np.ndarray) and v.ndim >= 2 and v.shape[:2] == (buffer.buffer_size, buffer.n_envs)
    return {k: v for k, v in vars(buffer).items()
            if per_slot(v) or (isinstance(v, dict) and v and all(per_slot(a) for a in v.values()))}


def _cut(v: Any, rows: int) -> Any:
    return {k: a[:rows] for k, a in v.items()} if isinstance(v, dict) else v[:rows]


def _padded(v: np.ndarray, size: int) -> np.ndarray:
    full = np.zeros((size, *v.shape[1:]), dtype=v.dtype)  # untouched pages cost no memory until written
    full[: len(v)] = v
    if v.dtype == object:  # HER's infos: SB3 fills unwritten slots with empty dicts
        for row, env in np.ndindex(size - len(v), full.shape[1]):
            full[len(v) + row, env] = {}
    return full


def _pad_in_place(buffer: "ReplayBuffer", name: str) -> None:
    """One array at a time, each cut one dropped as its padded copy replaces it: peak memory is the file's rows
    plus one array, not two whole buffers."""
    v = getattr(buffer, name)
    if isinstance(v, dict):
        for k in list(v):
            v[k] = _padded(v[k], buffer.buffer_size)
    else:
        setattr(buffer, name, _padded(v, buffer.buffer_size))


def save_replay(buffer: "ReplayBuffer", f: IO[bytes]) -> None:
    """Pickle `buffer` into `f`, its per-slot arrays cut to the rows written unless it has wrapped."""
    # optimize_memory_usage keeps the newest next_obs in observations[pos], past the rows written
    if buffer.full or getattr(buffer, "optimize_memory_usage", False):
        pickle.dump(buffer, f, protocol=pickle.HIGHEST_PROTOCOL)
        return
    whole = _row_arrays(buffer)
    try:
        for k, v in whole.items():
            setattr(buffer, k, _cut(v, buffer.pos))
        setattr(buffer, _TRIMMED, sorted(whole))
        pickle.dump(buffer, f, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        for k, v in whole.items():
            setattr(buffer, k, v)
        vars(buffer).pop(_TRIMMED, None)


def load_replay(path: Path | str) -> Any:
    """The buffer `save_replay` (or SB3's save_replay_buffer) wrote, at its full size again."""
    with open(path, "rb") as f:
        buffer = pickle.load(f)
    for name in vars(buffer).pop(_TRIMMED, []):
        _pad_in_place(buffer, name)
    return buffer
