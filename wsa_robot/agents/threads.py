"""How many torch threads the learner's process gets while env subprocesses render beside it.

A robosuite env renders on one core (Mesa's llvmpipe gains nothing from threads at 84x84: LP_NUM_THREADS 0, 1
and 2 all gave 28-30 steps/s here). torch's default of one thread per core then fights the env subprocesses for
the cores, and overlapping updates with renders was slower than not overlapping at all. Leaving the env
subprocesses their cores reverses that: Lift, 2 cameras, WSA-SAC on 2 cores, one env subprocess (sac.overlap),
24.8 steps/s with 1 torch thread against 13.6 with torch's default 2 (benchmarks/bench_throughput.py, measured
before out-of-view geoms were left out of renders). Two envs with the encoders in this process: 1.77x one env
with 1 thread, 1.49x with 2.

E2E-SAC is the other way round: its update (a NatureCNN per camera, forward and backward on 256 frames) takes
about ten times an env step, so the env subprocess idles most of the time and the learner gets every core:
2.87 env steps/s on Lift with 2 threads against 1.66 with 1 (benchmarks/bench_throughput.py --only train_e2e_sac
--repeats 2 --train-steps 60, --torch-threads 2 against the rule before this one).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from wsa_robot.agents.algos import off_policy
from wsa_robot.config import RunConfig
from wsa_robot.fusion import pixel_based


def available_cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def learner_threads(cfg: RunConfig, env_subprocesses: int) -> int | None:
    """`torch_threads` when set; with env subprocesses, the cores they leave (at least 1), except for an
    off-policy learner on pixels, whose updates outweigh the env's steps (every core); else None (torch's
    default, which suits a single process that renders and learns in turn)."""
    if cfg.torch_threads:
        return cfg.torch_threads
    if env_subprocesses == 0:
        return None
    if pixel_based(cfg.fusion) and off_policy(cfg.algo):  # measured with one env subprocess
        return available_cores()
    return max(1, available_cores() - env_subprocesses)


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """torch's thread count `threads` while the block runs (None: leave it), its previous count after it."""
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
