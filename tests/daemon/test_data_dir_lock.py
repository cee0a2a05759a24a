"""One daemon per data dir: the lock's failures leave nothing held, and say where."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from pi_daemon import app, files
from pi_daemon.config import ConfigError


def test_a_lock_whose_pid_cannot_be_written_is_not_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full SD card refuses the start; the lock must not outlive that refusal.

    The descriptor was left open, so the lock stayed held by a process that had
    given up: the same process's next start (the tests', an embedding one) was
    refused as a second daemon.
    """

    def full(fd: int, length: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patched:
        patched.setattr(files.os, "ftruncate", full)
        with pytest.raises(ConfigError, match="No space left on device"):
            app._lock(tmp_path)
    fd = files.lock_data_dir(tmp_path)  # raised DataDirBusy before
    os.close(fd)


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
