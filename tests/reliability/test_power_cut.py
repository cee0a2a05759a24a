"""Killing the writer in the middle of outbox writes loses no committed batch, half-writes none.

SIGKILL stops the process at an arbitrary instruction, as a power cut does; what
it cannot do is drop the kernel's page cache, which is what ``synchronous=FULL``
(an fsync of the WAL at every commit) is for. So this proves the transaction
and recovery logic; the fsync policy is SQLite's documented guarantee.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.reliability.outbox_writer import BATCH

WRITER = Path(__file__).with_name("outbox_writer.py")
ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 8


def run_and_kill(path: Path, first: int, rng: random.Random) -> list[int]:
    """Start the writer, let it commit for a random while, SIGKILL it; its promises."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, str(WRITER), str(path), str(first)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert process.stdout is not None
    lines: list[str] = []
    opened = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.strip())
            opened.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert opened.wait(30), "writer did not start"
        # Some rounds kill during the first commits, some well into the run.
        time.sleep(rng.uniform(0.0, 0.6))
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(10)
    stderr = process.stderr.read() if process.stderr else ""
    assert process.returncode == -signal.SIGKILL, stderr
    assert lines[:1] == ["open"], (lines[:3], stderr)
    return [int(line) for line in lines[1:]]


def batches_on_disk(path: Path) -> dict[int, list[float]]:
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT probe, temperature FROM readings ORDER BY seq").fetchall()
    finally:
        db.close()
    found: dict[int, list[float]] = {}
    for probe, temperature in rows:
        found.setdefault(int(probe[1:]), []).append(temperature)
    return found


def test_kill_during_writes_keeps_every_committed_batch_whole(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    rng = random.Random(8)
    promised: list[int] = []
    next_batch = 0
    for _round in range(ROUNDS):
        promised += run_and_kill(path, next_batch, rng)
        on_disk = batches_on_disk(path)  # reopens after the kill: WAL recovery runs here
        missing = set(promised) - set(on_disk)
        assert not missing, f"committed batches lost: {sorted(missing)[:10]}"
        partial = {b: len(v) for b, v in on_disk.items() if v != [float(i) for i in range(BATCH)]}
        assert not partial, f"half-written batches: {partial}"
        # Batches are stored in the order they were written, without holes.
        assert sorted(on_disk) == list(range(len(on_disk)))
        next_batch = len(on_disk)
    # At most one batch per round may be on disk without having been reported
    # (killed between COMMIT and print), never more.
    assert len(on_disk) - len(promised) <= ROUNDS
    print(
        f"\npower cut: {ROUNDS} kills survived, {len(promised)} batches reported "
        f"committed, {len(on_disk)} on disk ({len(on_disk) * BATCH} readings), none partial"
    )
    assert len(promised) >= ROUNDS  # the writer really got to write between kills
