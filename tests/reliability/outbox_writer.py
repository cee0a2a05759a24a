"""Appends numbered batches to an Outbox until killed; prints each batch number once committed.

Run by test_power_cut.py as ``python outbox_writer.py OUTBOX FIRST_BATCH``. A line
on stdout is a promise: that batch is on disk, whatever happens next.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pi_daemon.outbox import NewReading, Outbox

BATCH = 7
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def batch(number: int) -> list[NewReading]:
    # The probe names the batch; the temperature numbers the reading within it.
    at = T0 + timedelta(seconds=number)
    return [NewReading(f"b{number}", at, float(i)) for i in range(BATCH)]


async def main(path: Path, first: int) -> None:
    outbox = Outbox(path, max_age_s=1e10, max_rows=50_000_000)
    await outbox.open()
    print("open", flush=True)
    number = first
    while True:
        await outbox.append(batch(number), T0)
        print(number, flush=True)
        number += 1


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
