"""Helpers for benchmarks/bench_throughput.py: run statistics, machine facts, replay-buffer memory.

Run as a script it is the clean child process that fills a replay buffer and reports its peak RSS:

    python benchmarks/_bench_util.py '{"transitions": 10000, "obs": {"proprio": [[10], "float32"]}, "action_dim": 7}'
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

SpaceSpec = dict[str, tuple[list[int], str]]  # observation key -> (shape, dtype name)


def summarize(runs: list[float], unit: str = "steps/s") -> dict:
    """Median and spread (min, max) of repeated measurements of one configuration."""
    med = statistics.median(runs)
    return {"runs": [round(r, 3) for r in runs], "median": round(med, 3), "min": round(min(runs), 3),
            "max": round(max(runs), 3), "spread_pct": round(100 * (max(runs) - min(runs)) / med, 1) if med else None,
            "unit": unit}


def machine_info() -> dict:
    """The settings of this benchmark process that the shared provenance block (wsa_robot.core.provenance: date,
    commit, command, CPU, GPU, load, package versions) does not hold: torch threads, the GL backend."""
    import torch

    from wsa_robot.encoders.bank import native_bf16_cpu

    return {"torch_threads": torch.get_num_threads(), "MUJOCO_GL": os.environ.get("MUJOCO_GL"),
            "load_avg_1min_at_start": round(os.getloadavg()[0], 2),
            "cpu_amx": native_bf16_cpu()}  # encoder_precision=auto runs bf16 here


def space_spec(space) -> SpaceSpec:
    """A gymnasium Dict space as JSON-friendly (shape, dtype) pairs."""
    return {key: (list(box.shape), np.dtype(box.dtype).name) for key, box in space.spaces.items()}


def describe(spec: SpaceSpec) -> dict[str, str]:
    """{"agentview": "uint8[84, 84, 3]", ...} for the results file."""
    return {key: f"{dtype}{list(shape)}" for key, (shape, dtype) in spec.items()}


def _spaces(spec: SpaceSpec, action_dim: int):
    from gymnasium import spaces

    def box(shape: list[int], dtype: str) -> spaces.Box:
        dt = np.dtype(dtype)
        low, high = (np.iinfo(dt).min, np.iinfo(dt).max) if dt.kind in "ui" else (-np.inf, np.inf)
        return spaces.Box(low, high, tuple(shape), dt)

    obs = spaces.Dict({key: box(shape, dtype) for key, (shape, dtype) in spec.items()})
    return obs, spaces.Box(-1.0, 1.0, (action_dim,), np.float32)


def replay_bytes_per_transition(spec: SpaceSpec, action_dim: int, probe_size: int = 1000) -> dict:
    """Bytes SB3's DictReplayBuffer allocates per transition, read from its arrays' nbytes.

    np.zeros does not touch the pages, so the probe buffer costs no real memory. SB3 keeps obs and next_obs
    (DictReplayBuffer has no optimize_memory_usage); `total` adds actions, rewards, dones and timeouts.
    """
    from stable_baselines3.common.buffers import DictReplayBuffer

    obs_space, action_space = _spaces(spec, action_dim)
    buf = DictReplayBuffer(probe_size, obs_space, action_space, device="cpu")
    obs = sum(a.nbytes for a in buf.observations.values()) + sum(a.nbytes for a in buf.next_observations.values())
    rest = buf.actions.nbytes + buf.rewards.nbytes + buf.dones.nbytes + buf.timeouts.nbytes
    return {"obs_and_next_obs": obs // probe_size, "total": (obs + rest) // probe_size}


def _peak_rss_bytes() -> int:
    """This process's peak resident set size.

    /proc's VmHWM belongs to the current address space, so it starts afresh at exec; getrusage's ru_maxrss
    would carry over the (much larger) peak of the parent this process was forked from.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _fill_buffer(spec: SpaceSpec, action_dim: int, transitions: int, chunk: int = 1024) -> dict:
    """In this (fresh) process: allocate a DictReplayBuffer, write random data into every slot, report RSS."""
    from stable_baselines3.common.buffers import DictReplayBuffer

    obs_space, action_space = _spaces(spec, action_dim)
    before = _peak_rss_bytes()
    buf = DictReplayBuffer(transitions, obs_space, action_space, device="cpu")
    rng = np.random.default_rng(0)
    arrays = [*buf.observations.values(), *buf.next_observations.values(), buf.actions, buf.rewards,
              buf.dones, buf.timeouts]
    for start in range(0, transitions, chunk):  # chunked, so no full-size temporary inflates the peak
        stop = min(start + chunk, transitions)
        for a in arrays:
            a[start:stop] = rng.standard_normal(a[start:stop].shape, dtype=np.float32).astype(a.dtype)
    buf.pos, buf.full = 0, True
    peak = _peak_rss_bytes()
    return {"transitions": transitions, "rss_before_mib": round(before / 2**20, 1),
            "rss_peak_mib": round(peak / 2**20, 1),
            "bytes_per_transition": round((peak - before) / transitions, 1)}


def measure_filled_buffer_rss(spec: SpaceSpec, action_dim: int, transitions: int) -> dict:
    """Peak RSS of a fresh Python process that fills `transitions` slots of a DictReplayBuffer."""
    arg = json.dumps({"obs": spec, "action_dim": action_dim, "transitions": transitions})
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), arg], check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    request = json.loads(sys.argv[1])
    print(json.dumps(_fill_buffer(request["obs"], request["action_dim"], request["transitions"])))
