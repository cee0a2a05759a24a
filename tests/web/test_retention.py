"""Retention: old raw readings are dropped (rollups stay) only when the config says so."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from tests.web.service import running_service, web_config
from web_extras.store import create_store
from web_extras.store.base import StoredReading


async def _seed(data_dir: Path) -> datetime:
    now = datetime.now(UTC).replace(microsecond=0)
    store = create_store(None, data_dir / "history.sqlite")
    await store.open()
    readings = [
        StoredReading("dev", "beer", now - timedelta(days=10, minutes=i), 18.0 + (i % 7) / 10)
        for i in range(180)
    ] + [StoredReading("dev", "beer", now - timedelta(minutes=i), 20.0) for i in range(30)]
    assert await store.add_readings(readings) == 210
    await store.close()
    return now


async def _wait_count(store, expected: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(100):
        if await store.count(device="dev") == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"raw count never reached {expected}: {await store.count(device='dev')}")


async def test_old_raw_readings_are_dropped_and_still_graphed(tmp_path: Path) -> None:
    now = await _seed(tmp_path)
    config = web_config(tmp_path, db=str(tmp_path / "history.sqlite"), retention_days=7)
    async with running_service(config) as service:
        await _wait_count(service.store, 30)
        buckets = await service.store.series(
            "dev", "beer", now - timedelta(days=11), now + timedelta(minutes=1), 11
        )
        old = [b for b in buckets if b.end <= now - timedelta(days=9)]
        assert sum(b.count for b in old) == 180
        assert min(b.min for b in old) == 18.0
        assert max(b.max for b in old) == 18.6
        # The CSV export has the raw readings that are left, and none of the dropped ones.
        await service.hub.load_known()
        since = (now - timedelta(days=11)).isoformat().replace("+00:00", "Z")
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{service.url}/api/devices/dev/readings.csv", params={"start": since}) as got,
        ):
            assert got.status == 200
            rows = (await got.text()).strip().splitlines()
        assert rows[0] == "device,probe,timestamp,temperature_c"
        assert len(rows) == 1 + 30
        assert {row.rsplit(",", 1)[1] for row in rows[1:]} == {"20.0"}


async def test_without_retention_nothing_is_dropped(tmp_path: Path) -> None:
    await _seed(tmp_path)
    config = web_config(tmp_path, db=str(tmp_path / "history.sqlite"))
    async with running_service(config) as service:
        await asyncio.sleep(0.3)
        assert await service.store.count(device="dev") == 210
