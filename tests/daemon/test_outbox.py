"""The outbox hands a history service every reading once, in order, across restarts."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pi_daemon.outbox import CursorError, NewReading, Outbox, OutboxError

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _batch(start: int, count: int) -> list[NewReading]:
    return [
        NewReading("beer", T0 + timedelta(minutes=i), 18 + i / 100)
        for i in range(start, start + count)
    ]


async def _open(path: Path, **kwargs: float) -> Outbox:
    outbox = Outbox(
        path, max_age_s=kwargs.get("max_age_s", 1e9), max_rows=int(kwargs.get("max_rows", 10**6))
    )
    await outbox.open()
    return outbox


async def test_the_outbox_is_in_wal_mode_and_fsyncs_every_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WAL with synchronous=FULL: a committed batch survives a power cut (the README's
    "nothing lost"; synchronous is per connection, so the outbox's own one is asked)."""
    opened: list[sqlite3.Connection] = []
    connect = sqlite3.connect

    def watched_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(connect(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(sqlite3, "connect", watched_connect)
    outbox = await _open(tmp_path / "outbox.sqlite3")
    try:
        await outbox.append(_batch(0, 3), T0)
        [db] = opened
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        await outbox.close()


async def test_pages_in_order_and_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    outbox = await _open(path)
    await outbox.append(_batch(0, 25), T0)
    first = await outbox.since(None, 10)
    assert [r.seq for r in first.readings] == list(range(1, 11))
    assert first.more
    assert first.cursor == "10"
    assert first.readings[0].timestamp == "2026-11-01T00:00:00.000Z"
    await outbox.close()

    outbox = await _open(path)
    await outbox.append(_batch(25, 5), T0)
    rest = []
    cursor = first.cursor
    while True:
        page = await outbox.since(cursor, 7)
        rest.extend(page.readings)
        cursor = page.cursor
        if not page.more:
            break
    assert [r.seq for r in rest] == list(range(11, 31))
    assert [r.temperature for r in rest][-1] == pytest.approx(18.29)
    empty = await outbox.since(cursor, 7)
    assert empty.readings == ()
    assert empty.cursor == cursor
    assert not empty.more
    await outbox.close()


async def test_pruning_bounds_the_outbox_and_reports_the_gap(tmp_path: Path) -> None:
    outbox = await _open(tmp_path / "o.sqlite3", max_rows=1000)
    await outbox.append(_batch(0, 1500), T0)
    assert await outbox.count() == 1000
    page = await outbox.since("10", 5)
    assert page.gap is True
    assert page.readings[0].seq == 501
    fresh = await outbox.since(None, 5)
    assert fresh.gap is False
    await outbox.close()


async def test_old_readings_age_out(tmp_path: Path) -> None:
    outbox = await _open(tmp_path / "o.sqlite3", max_age_s=3600)
    await outbox.append(_batch(0, 180), T0 + timedelta(hours=3))
    page = await outbox.since(None, 500)
    assert page.readings[0].timestamp >= "2026-11-01T02:00"
    await outbox.close()


async def test_cursors_it_never_gave_are_refused(tmp_path: Path) -> None:
    outbox = await _open(tmp_path / "o.sqlite3")
    await outbox.append(_batch(0, 3), T0)
    for bad in ("abc", "-1", "4", "1" * 40):
        with pytest.raises(CursorError):
            await outbox.since(bad, 10)
    await outbox.close()


async def test_a_corrupt_outbox_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError, match="may be corrupt"):
        await _open(path)


async def test_a_damaged_outbox_that_cannot_be_moved_aside_is_kept_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card refuses even the rename: the daemon still starts, its readings in
    memory, and both the damage and the memory say so; the file is untouched."""
    from pi_daemon.app import open_outbox
    from pi_daemon.config import load_config

    path = tmp_path / "outbox.sqlite3"
    damaged = b"this is not a database" * 100
    path.write_bytes(damaged)

    def refuse(self: Path, target: Path) -> Path:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(Path, "rename", refuse)
    config = load_config(None, {"simulate": True, "storage.data_dir": str(tmp_path)})
    outbox, in_memory, (record,) = await open_outbox(config, path)
    try:
        assert in_memory is not None
        assert "kept in memory only until a restart" in in_memory
        assert record.kept_as is None
        assert "It could not be moved aside, and readings are kept in memory" in record.message()
        await outbox.append(_batch(0, 3), T0)
        assert len((await outbox.since(None, 10)).readings) == 3
    finally:
        await outbox.close()
    assert path.read_bytes() == damaged


def test_a_file_moved_aside_never_replaces_another(tmp_path: Path) -> None:
    """Two damaged outboxes in one second, the first with its -wal: each keeps its own
    name, companions included, and no byte of the first is lost."""
    from pi_daemon.set_aside import move_aside

    path = tmp_path / "outbox.sqlite3"
    now = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    path.write_bytes(b"first")
    path.with_name("outbox.sqlite3-wal").write_bytes(b"first wal")
    first = move_aside(path, now, ("-wal", "-shm"))
    # Only a companion's name is taken for the second: still a new name.
    (tmp_path / "outbox.sqlite3.damaged-20261130T060000Z-2-wal").write_bytes(b"stray")
    path.write_bytes(b"second")
    path.with_name("outbox.sqlite3-wal").write_bytes(b"second wal")
    second = move_aside(path, now, ("-wal", "-shm"))
    assert first is not None
    assert second is not None
    assert first.name == "outbox.sqlite3.damaged-20261130T060000Z"
    assert second.name == "outbox.sqlite3.damaged-20261130T060000Z-3"
    assert first.read_bytes() == b"first"
    assert first.with_name(first.name + "-wal").read_bytes() == b"first wal"
    assert second.with_name(second.name + "-wal").read_bytes() == b"second wal"
    assert (tmp_path / "outbox.sqlite3.damaged-20261130T060000Z-2-wal").read_bytes() == b"stray"
    assert not path.exists()
