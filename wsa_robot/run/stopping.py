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


_deferred: list[int] | None = None  # while set-up defers Ctrl-C: the signals that came


def defer_interrupts() -> None:
    """From now until `honour_deferred_interrupts`, Ctrl-C (and SIGTERM) is noted, not raised. A run's set-up
    (encoders loading, envs building) runs C code that turns a KeyboardInterrupt into other errors (ctypes'
    ArgumentError inside Mesa's EGL): noted, it is raised where the run can stop cleanly."""
    global _deferred
    _deferred = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: _deferred.append(signum))


def honour_deferred_interrupts() -> None:
    """Ctrl-C and SIGTERM act at once again; a KeyboardInterrupt if one came while deferred. A no-op when
    nothing deferred them (a sweep's in-process training)."""
    global _deferred
    if _deferred is None:
        return
    came, _deferred = _deferred, None
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if came:
        raise KeyboardInterrupt
