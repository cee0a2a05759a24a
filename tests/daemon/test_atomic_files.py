"""Mode, target and the running profile are replaced whole on disk, never half-written.

The README: they are "written atomically (write, fsync, rename, fsync the
directory) and resume after a restart". A power cut can only be simulated by
its effects, so these tests watch the order of the system calls a live daemon
makes for each file (the new text on disk before the rename, the rename on disk
before the request is answered) and break a write half-way.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from pi_daemon.files import write_atomic
from tests.support.daemon import connected, running_daemon, sim_config

PROFILE: dict[str, Any] = {"name": "ale", "steps": [{"target": 18, "days": 4}]}


Call = tuple[int, str, str]  # thread, what, on what


def _watch_disk_calls(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    """Every fsync (of a file or a directory, by path) and rename, in order, by thread."""
    calls: list[Call] = []
    fsync, replace = os.fsync, Path.replace

    def watched_fsync(fd: int) -> None:
        fsync(fd)
        kind = "fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file"
        calls.append((threading.get_ident(), kind, str(Path(f"/proc/self/fd/{fd}").readlink())))

    def watched_replace(self: Path, target: Any) -> Path:
        moved = replace(self, target)
        calls.append((threading.get_ident(), "rename", f"{self.name} -> {Path(target).name}"))
        return moved

    monkeypatch.setattr(os, "fsync", watched_fsync)
    monkeypatch.setattr(Path, "replace", watched_replace)
    return calls


def _assert_written_atomically(calls: list[Call], name: str, data_dir: Path) -> None:
    """``name`` was written by: its temporary file's fsync, the rename, the dir's fsync.

    Other files are written meanwhile on other threads (relays.json): the steps of
    one write are those of its thread.
    """
    tmp = f".{name}.tmp"
    renames = [c for c in calls if c[1:] == ("rename", f"{tmp} -> {name}")]
    assert renames, calls
    thread = renames[-1][0]
    steps = [(what, on) for t, what, on in calls if t == thread]
    at = steps.index(("rename", f"{tmp} -> {name}"))
    assert steps[at - 1 : at + 2] == [
        ("fsync file", str(data_dir / tmp)),
        ("rename", f"{tmp} -> {name}"),
        ("fsync dir", str(data_dir)),
    ], steps


async def test_mode_target_and_profile_are_written_fsynced_renamed_and_dir_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    calls = _watch_disk_calls(monkeypatch)
    async with running_daemon(sim_config(data_dir)) as running, connected(running) as client:
        calls.clear()
        await client.set_thermostat(mode="heat", target=19.5)
        # Answered only once the file and its rename are on disk.
        _assert_written_atomically(calls, "thermostat.json", data_dir)
        calls.clear()
        await client.set_thermostat(mode="heat_cool", profile=PROFILE)
        _assert_written_atomically(calls, "profile.json", data_dir)
        _assert_written_atomically(calls, "thermostat.json", data_dir)
    assert not list(data_dir.glob(".*.tmp"))


def test_a_write_cut_short_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "thermostat.json"
    write_atomic(path, '{"mode": "cool", "target": 12.0}\n')

    def power_cut(_fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", power_cut)
    with pytest.raises(OSError, match="Input/output error"):
        write_atomic(path, '{"mode": "heat", "target": 30.0}\n')
    assert path.read_text() == '{"mode": "cool", "target": 12.0}\n'
