"""One daemon per data dir: the lock's failures leave nothing held, and say where."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from pi_daemon import app, files
from pi_daemon.config import ConfigError


def test_a_lock_whose_pid_cannot_be_written_still_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full SD card does not stop the start (the beer needs control), nor a second daemon.

    The pid is only there to be named; the flock needs no room on the card.
    """

    def full(fd: int, length: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patched:
        patched.setattr(files.os, "ftruncate", full)
        held = app._lock(tmp_path)
    try:
        with pytest.raises(ConfigError, match=r"another beerpi-daemon \(pid unknown\)"):
            app._lock(tmp_path)
    finally:
        os.close(held)
    os.close(files.lock_data_dir(tmp_path))  # released with its descriptor


def test_a_lock_that_cannot_be_made_is_not_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed flock closes its descriptor: the same process's next start is not refused."""
    import fcntl

    def broken(fd: int, operation: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    with monkeypatch.context() as patched:
        patched.setattr(fcntl, "flock", broken)
        with pytest.raises(ConfigError, match="Input/output error"):
            app._lock(tmp_path)
    os.close(files.lock_data_dir(tmp_path))


def test_a_busy_relative_data_dir_is_shown_as_the_path_it_stands_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As every other data dir message: under systemd 'data' is /data."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    held = files.lock_data_dir(tmp_path / "data")
    try:
        with pytest.raises(ConfigError) as caught:
            app._lock(Path("data"))
    finally:
        os.close(held)
    assert (
        f"(pid {os.getpid()}) is running on the data dir data (that is {tmp_path / 'data'}, "
        in (str(caught.value))
    )
