"""One writer per run dir: an exclusive flock on RUN/.writer, held until the process ends.

The OS releases a flock when its process dies, however it dies (SIGKILL included), so no lock is ever stale.
Readers (`eval`, `runs`, TensorBoard) never take it. A second writer gets one line naming the holder's pid.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

from wsa_robot.core.errors import UserError

LOCK_NAME = ".writer"
_held: dict[Path, int] = {}  # run dir -> the open lock file's descriptor, for this process's lifetime


def hold_writer_lock(run_dir: Path | str) -> None:
    """Take RUN's writer lock for the rest of this process (a no-op when it already holds it); a UserError
    naming the holder when another process writes the run."""
    path = Path(run_dir).resolve()
    if path in _held:
        return
    lock = path / LOCK_NAME
    try:
        path.mkdir(parents=True, exist_ok=True)  # a caller that trains into a path of its own (a sweep's trial)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise UserError(f"{path}: cannot write the run dir ({e.strerror}); choose a run_dir you can write") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise UserError(f"{path} is being written by {holder}; wait for it to end or stop it, then run this "
                        "again (eval and runs may read it meanwhile)") from None
    os.ftruncate(fd, 0)
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:3]])
    os.write(fd, f"pid {os.getpid()} ({command})".encode())
    _held[path] = fd


def release_writer_lock(run_dir: Path | str) -> None:
    """Give the lock back before the process ends (tests, and drivers that train several runs in turn)."""
    fd = _held.pop(Path(run_dir).resolve(), None)
    if fd is not None:
        os.close(fd)


def holds_writer_lock(run_dir: Path | str) -> bool:
    return Path(run_dir).resolve() in _held


def release_writer_locks() -> None:
    """Give back every lock this process holds (a command that ends, in a process that goes on)."""
    for path in list(_held):
        release_writer_lock(path)
