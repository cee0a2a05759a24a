"""Files in the data dir are replaced whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write, fsync, rename, fsync the directory: a power cut leaves the old or the new file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` survive a power cut."""
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


LOCK_NAME = "daemon.lock"


class DataDirBusy(Exception):
    """Another process holds the data dir's lock; ``owner`` is its pid as it wrote it."""

    def __init__(self, owner: str) -> None:
        super().__init__(owner)
        self.owner = owner


def lock_data_dir(data_dir: Path) -> int:
    """Hold ``daemon.lock`` in the data dir until the returned descriptor is closed.

    Two daemons on one data dir would switch the same relays and write the same
    outbox and thermostat.json, so the second must not start. The kernel drops an
    flock when its holder exits, even on SIGKILL or a power cut, so a lock is never
    left stale; the pid written in the file is only there to be named.
    """
    import fcntl  # POSIX only, as the daemon is

    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode("ascii", "replace").strip()
            raise DataDirBusy(owner) from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        except OSError:
            pass  # a full card: the lock holds without its pid, which is only named
    except BaseException:
        # A descriptor left open here would hold the lock after the refused start.
        os.close(fd)
        raise
    return fd
