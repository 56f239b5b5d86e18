"""How a training process and the commands that start them stop: SIGTERM (a user's `kill`, a scheduler, a
session's end) means what Ctrl-C means, a checkpoint and then exit, and a child `wsa-robot train` never outlives
the command that started it."""

from __future__ import annotations

import contextlib
import ctypes
import signal
import sys
from typing import Iterator


@contextlib.contextmanager
def sigterm_as_ctrl_c() -> Iterator[list[int]]:
    """Inside the block SIGTERM raises KeyboardInterrupt; the list yielded gets the signal's number, so a caller
    can tell a SIGTERM (which reached this process alone) from Ctrl-C (which reached its whole process group)."""
    received: list[int] = []

    def on_term(signum, frame):
        received.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


def die_with_parent() -> None:
    """For a child's preexec_fn: it gets SIGTERM (checkpoint, then exit) if its parent dies, even by SIGKILL
    (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
