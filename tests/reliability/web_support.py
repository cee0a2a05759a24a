"""Shared by the web service reliability tests and scripts/soak.py.

A loopback TCP proxy that can cut its connections or refuse new ones (the link
between the service and a daemon), the web service as a process that can be
killed with SIGKILL and started again on the same port and data dir, and
readers of the daemon's outbox and the service's SQLite history straight from
their files, so the counts do not depend on the code under test.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from web_extras.store.base import to_millis
from web_extras.timefmt import parse_iso

# ---------------------------------------------------------------------------
# A proxy that can cut the link


@dataclass
class TcpProxy:
    """Forwards 127.0.0.1:``port`` to 127.0.0.1:``target``; ``cut()`` drops every connection."""

    target: int
    port: int = 0
    refusing: bool = False
    cuts: int = 0
    _server: asyncio.Server | None = None
    _pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            _abort(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            _abort(writer)
            return
        pair = (writer, up_writer)
        self._pairs.add(pair)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink, pair))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if pair in self._pairs:
                self._pairs.discard(pair)
                for writer in pair:
                    _abort(writer)

    def cut(self) -> int:
        """Reset every open connection (both ends see it die); returns how many."""
        pairs = list(self._pairs)
        self._pairs.clear()
        for pair in pairs:
            for writer in pair:
                _abort(writer)
        self.cuts += 1
        return len(pairs)

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _abort(writer: asyncio.StreamWriter) -> None:
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()


# ---------------------------------------------------------------------------
# The web service as a process that can be killed


@dataclass
class WebProcess:
    """``python -m web_extras`` started, killed (-9) and started again on one port and data dir."""

    port: int
    args: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> None:
        assert self.process is None or self.process.poll() is not None
        # Appended across restarts: the log of the whole run, for the secret check.
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "web_extras",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *self.args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        self.starts += 1
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited with {self.process.returncode}: {self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(self.log()) from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, like a power cut of the server."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


async def wait_for(check: object, timeout_s: float, step_s: float = 0.1) -> None:
    """Poll a sync predicate until it is true; bounded."""
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"not met within {timeout_s} s")
        await asyncio.sleep(step_s)


# ---------------------------------------------------------------------------
# Counting, from the files


Key = tuple[str, int, float]  # probe, epoch ms, temperature


def _millis(text: str) -> int:
    return to_millis(parse_iso(text))


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)


def outbox_rows(daemon_dir: Path) -> list[tuple[int, Key]]:
    """Every reading in a daemon's outbox, ``(seq, (probe, ms, °C))`` in seq order."""
    db = _read_only(daemon_dir / "outbox.sqlite3")
    try:
        rows = db.execute("SELECT seq, probe, ts, temperature FROM readings ORDER BY seq")
        return [(seq, (probe, _millis(ts), temp)) for seq, probe, ts, temp in rows]
    finally:
        db.close()


def outbox_count(daemon_dir: Path) -> int:
    db = _read_only(daemon_dir / "outbox.sqlite3")
    try:
        return int(db.execute("SELECT COUNT(*) FROM readings").fetchone()[0])
    finally:
        db.close()


def stored_rows(history: Path, device: str) -> list[Key]:
    """Every reading the service stored for ``device``, by probe and time."""
    if not history.exists():
        return []
    db = _read_only(history)
    try:
        rows = db.execute(
            "SELECT s.probe, r.ts, r.temperature FROM readings r JOIN series s ON s.id = r.series"
            " WHERE s.device = ? ORDER BY s.probe, r.ts",
            (device,),
        )
        return [(probe, int(ts), float(temp)) for probe, ts, temp in rows]
    except sqlite3.OperationalError:
        return []  # not created yet
    finally:
        db.close()


def rollup_mismatches(history: Path, device: str) -> list[tuple[str, int, int, int, int]]:
    """Rollup periods whose count differs from the raw readings they cover.

    ``(probe, width, start, rolled count, raw count)``; empty when every level
    counts each stored reading exactly once (a replayed batch counted twice, or
    a stored one not at all, shows up here).
    """
    db = _read_only(history)
    try:
        rows = db.execute(
            "WITH widths(w) AS (SELECT DISTINCT width FROM rollups),"
            " raw AS (SELECT r.series, w, r.ts - r.ts % w AS start, COUNT(*) AS n"
            "  FROM readings r, widths GROUP BY r.series, w, start)"
            " SELECT s.probe, k.width, k.start, IFNULL(ro.count, 0), IFNULL(raw.n, 0)"
            " FROM (SELECT series, width, start FROM rollups"
            "  UNION SELECT series, w, start FROM raw) k"
            " JOIN series s ON s.id = k.series"
            " LEFT JOIN rollups ro USING (series, width, start)"
            " LEFT JOIN raw ON raw.series = k.series AND raw.w = k.width AND raw.start = k.start"
            " WHERE s.device = ? AND IFNULL(ro.count, 0) != IFNULL(raw.n, 0)",
            (device,),
        )
        return [(str(p), int(w), int(st), int(a), int(b)) for p, w, st, a, b in rows]
    finally:
        db.close()


def stored_counts(history: Path) -> Counter[str]:
    """Readings stored per device."""
    if not history.exists():
        return Counter()
    db = _read_only(history)
    try:
        rows = db.execute(
            "SELECT s.device, COUNT(*) FROM readings r JOIN series s ON s.id = r.series"
            " GROUP BY s.device"
        )
        return Counter({device: int(n) for device, n in rows})
    except sqlite3.OperationalError:
        return Counter()
    finally:
        db.close()


def stored_cursor(history: Path, device: str) -> str | None:
    if not history.exists():
        return None
    db = _read_only(history)
    try:
        row = db.execute("SELECT cursor FROM cursors WHERE device = ?", (device,)).fetchone()
        return None if row is None else str(row[0])
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()


def gap_events(history: Path, device: str) -> int:
    db = _read_only(history)
    try:
        row = db.execute(
            "SELECT COUNT(*) FROM events WHERE device = ? AND kind = 'gap'", (device,)
        ).fetchone()
        return int(row[0])
    finally:
        db.close()
