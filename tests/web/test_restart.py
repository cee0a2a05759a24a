"""A service restart in the middle of a run loses no reading and stores none twice."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from beerpi_protocol.client import BeerPiClient
from tests.support.daemon import connected, running_daemon, sim_config
from tests.web.service import dial_in_config, running_service, wait_until
from web_extras.store import StoredReading


async def outbox_snapshot(client: BeerPiClient, device: str) -> list[StoredReading]:
    """Every reading the daemon's outbox holds now, oldest first."""
    readings: list[StoredReading] = []
    cursor = None
    for _ in range(1000):
        page = await client.readings_since(cursor, limit=5000)
        readings.extend(StoredReading.from_protocol(device, r) for r in page.readings)
        cursor = page.cursor
        if not page.more:
            return readings
    raise AssertionError("the outbox never ended")


async def stored_up_to(
    store: Any, device: str, probes: list[str], last: StoredReading
) -> list[StoredReading]:
    end = last.timestamp + timedelta(milliseconds=1)
    found: list[StoredReading] = []
    for probe in probes:
        start = last.timestamp - timedelta(days=1)
        found.extend([r async for r in store.raw(device, probe, start, end)])
    return found


@pytest.mark.parametrize("backend", ["sqlite", "mongo"])
async def test_restart_loses_nothing(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    values: dict[str, Any] = {}
    if backend == "mongo":
        server = request.getfixturevalue("mongo_server")
        values["mongo_url"] = server.uri + "?directConnection=true"
    daemon_config = sim_config(tmp_path / "daemon", **{"storage.record_interval_s": 0.2})
    async with running_daemon(daemon_config) as daemon:
        device = daemon.daemon.device.id
        config = dial_in_config(tmp_path / "web", daemon.port, **values)
        async with running_service(config) as service:
            await wait_until(lambda: service.store.count(device=device))
            before = await service.store.count(device=device)
        # The service is gone; the daemon keeps recording into its outbox.
        await asyncio.sleep(1.5)
        async with running_service(config) as service:
            async with connected(daemon) as client:
                await wait_until(
                    lambda: service.hub.find(device) and service.hub.find(device).online
                )
                snapshot = await outbox_snapshot(client, device)
            assert len(snapshot) > before + 8  # readings piled up while the service was away
            probes = sorted({r.probe for r in snapshot})

            async def caught_up() -> bool:
                return len(await stored_up_to(service.store, device, probes, snapshot[-1])) >= len(
                    snapshot
                )

            await wait_until(caught_up)
            stored = await stored_up_to(service.store, device, probes, snapshot[-1])
            assert sorted(stored, key=_key) == sorted(snapshot, key=_key)  # each exactly once
            # The daily rollups (two whole days: nothing else is read) count each once too.
            day = snapshot[0].timestamp.replace(hour=0, minute=0, second=0, microsecond=0)
            days = (day, day + timedelta(days=2))
            for probe in probes:
                await wait_until(
                    lambda probe=probe: rollups_match_raw(service.store, device, probe, days)
                )
            assert await service.store.get_cursor(device) is not None


async def rollups_match_raw(
    store: Any, device: str, probe: str, days: tuple[datetime, datetime]
) -> bool:
    """Daily rollup count == raw count, read while nothing was stored in between.

    The daemon keeps recording (and MongoDB counts a batch just after storing
    it), so this is retried until a read lands between two batches; a reading
    counted twice, or not at all, never matches and the wait times out.
    """
    before = sum(b.count for b in await store.series(device, probe, *days, 2))
    raw = await store.count(device, probe, *days)
    after = sum(b.count for b in await store.series(device, probe, *days, 2))
    return bool(before == after == raw)


def _key(r: StoredReading) -> tuple[str, Any]:
    return (r.probe, r.timestamp)
