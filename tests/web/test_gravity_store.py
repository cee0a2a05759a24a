"""Gravity readings in the history store: the contract both stores keep (SQLite, MongoDB)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pytest

from web_extras.store import GravityReading, GravitySource, HistoryStore

T0 = datetime(2024, 3, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def falling(n: int, hydrometer: str = "red", device: str = "fv1") -> list[GravityReading]:
    """One reading every 15 minutes, SG falling 0.001 each time from 1.050."""
    return [
        GravityReading(
            device, hydrometer, T0 + 15 * i * MINUTE, 1.050 - i / 1000, 20.0, 60.0 - i, 3.9
        )
        for i in range(n)
    ]


async def test_a_resent_reading_is_stored_once(store: HistoryStore) -> None:
    batch = falling(8)
    assert await store.add_gravity(batch) == 8
    assert await store.add_gravity(batch) == 0
    assert await store.add_gravity([batch[0], batch[0]]) == 0
    [bucket] = await store.gravity_series("fv1", "red", T0, T0 + 3 * 60 * MINUTE, 1)
    assert bucket.count == 8


async def test_first_copy_wins_and_duplicates_in_one_batch_count_once(
    store: HistoryStore,
) -> None:
    first = GravityReading("fv1", "red", T0, 1.040, 19.5, 50.0, 3.8, GravitySource.TILT)
    later_copy = GravityReading("fv1", "red", T0, 1.010)
    other = GravityReading("fv1", "red", T0 + MINUTE, 1.039)
    assert await store.add_gravity([first, later_copy, other]) == 2
    assert await store.add_gravity([later_copy]) == 0
    latest = await store.latest_gravity("fv1")
    assert latest["red"] == other
    [bucket] = await store.gravity_series("fv1", "red", T0, T0 + MINUTE, 1)
    assert (bucket.min, bucket.count) == (1.040, 1)


async def test_latest_is_per_hydrometer_of_one_fermenter(store: HistoryStore) -> None:
    await store.add_gravity(falling(4, "red") + falling(2, "blue") + falling(3, "red", "fv2"))
    latest = await store.latest_gravity("fv1")
    assert sorted(latest) == ["blue", "red"]
    red = latest["red"]
    assert red.sg == pytest.approx(1.047)
    assert (red.temperature_c, red.angle, red.battery) == (20.0, 57.0, 3.9)
    assert red.source is GravitySource.ISPINDEL
    assert red.timestamp == T0 + 45 * MINUTE
    assert red.timestamp.tzinfo is not None
    assert await store.latest_gravity("nowhere") == {}


async def test_optional_values_stay_absent(store: HistoryStore) -> None:
    tilt = GravityReading("fv1", "tilt-red", T0, 1.020, source=GravitySource.TILT)
    await store.add_gravity([tilt])
    assert (await store.latest_gravity("fv1"))["tilt-red"] == tilt


async def test_series_is_the_mean_per_bucket(store: HistoryStore) -> None:
    await store.add_gravity(falling(8))  # 2 hours of readings
    buckets = await store.gravity_series("fv1", "red", T0, T0 + 120 * MINUTE, 2)
    assert [b.count for b in buckets] == [4, 4]
    first = buckets[0]
    assert (first.start, first.end, first.max, first.count) == (T0, T0 + 60 * MINUTE, 1.050, 4)
    assert first.min == pytest.approx(1.047)
    assert first.mean == pytest.approx(1.0485)
    assert buckets[1].mean == pytest.approx(1.0445)
    # Half-open: the reading at the end is not in, other hydrometers never are.
    await store.add_gravity(falling(3, "blue"))
    [only] = await store.gravity_series("fv1", "red", T0, T0 + 15 * MINUTE, 1)
    assert only.count == 1
    assert await store.gravity_series("fv1", "green", T0, T0 + 120 * MINUTE, 5) == []


async def test_series_refuses_bad_ranges(store: HistoryStore) -> None:
    with pytest.raises(ValueError, match="after start"):
        await store.gravity_series("fv1", "red", T0, T0, 10)
    with pytest.raises(ValueError, match="buckets"):
        await store.gravity_series("fv1", "red", T0, T0 + MINUTE, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sg", 0.5),
        ("sg", 1.3),
        ("sg", math.nan),
        ("sg", True),
        ("sg", "1.050"),
        ("temperature_c", math.inf),
        ("temperature_c", 500.0),
        ("angle", -1.0),
        ("battery", -0.1),
    ],
)
def test_a_reading_refuses_impossible_values(field: str, value: object) -> None:
    values: dict[str, object] = {"sg": 1.050, "temperature_c": 20.0, "angle": 45.0, "battery": 4}
    values[field] = value
    with pytest.raises(ValueError, match=field):
        GravityReading("fv1", "red", T0, **values)  # type: ignore[arg-type]


def test_a_reading_refuses_naive_times_and_empty_names() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        GravityReading("fv1", "red", datetime(2024, 3, 1), 1.050)
    with pytest.raises(ValueError, match="device"):
        GravityReading("", "red", T0, 1.050)
    with pytest.raises(ValueError, match="hydrometer"):
        GravityReading("fv1", "red", T0, 1.050, source="hydrometer")  # type: ignore[arg-type]


TILT_ITEM = {
    "id": "tilt-red",
    "sg": 1.0321,
    "temperature_c": 18.5,
    "battery": 12,
    "angle": None,
    "at": "2024-03-01T02:00:00+02:00",
}


def test_a_daemons_tilt_reading_becomes_a_stored_reading() -> None:
    reading = GravityReading.from_daemon("fv1", TILT_ITEM)
    assert reading == GravityReading(
        "fv1", "tilt-red", T0, 1.0321, 18.5, None, 12.0, GravitySource.TILT
    )


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"at": None}, "at must be"),
        ({"at": "yesterday"}, "yesterday"),
        ({"sg": math.inf}, "sg must be"),
        ({"id": "<b>red</b>"}, "hydrometer '<b>red</b>' must match"),
        ({"id": 7}, "hydrometer id must be"),
        ({"temperature_c": "warm"}, "temperature_c must be"),
    ],
)
def test_a_bad_tilt_reading_is_refused(bad: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        GravityReading.from_daemon("fv1", {**TILT_ITEM, **bad})
