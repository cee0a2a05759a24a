"""The one gravity-steadiness function both the daemon's profile step and the alert use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from beerpi_protocol.gravity import slice_length, slice_spread

END = datetime(2026, 11, 27, 12, tzinfo=UTC)
MIN = timedelta(minutes=1)


def minutely(
    hours: float, sg_at: Callable[[int], float] | None = None
) -> list[tuple[datetime, float]]:
    """A reading a minute over the last ``hours``; ``sg_at(i)`` gives the i-th (1.010 flat)."""
    count = int(hours * 60)
    return [(END - (count - i) * MIN, 1.010 if sg_at is None else sg_at(i)) for i in range(count)]


def test_slices_are_hours_or_quarters_of_a_short_window() -> None:
    assert slice_length(timedelta(hours=24)) == timedelta(hours=1)
    assert slice_length(timedelta(hours=2)) == timedelta(minutes=30)


def test_flat_gravity_has_no_spread_and_its_median() -> None:
    assert slice_spread(minutely(24), END, timedelta(hours=24)) == (0.0, 1.010)


def test_a_single_spike_does_not_move_an_hours_median() -> None:
    spiky = minutely(24, lambda i: 1.030 if i % 60 == 7 else 1.010)
    spread = slice_spread(spiky, END, timedelta(hours=24))
    assert spread is not None
    assert spread[0] == 0.0


def test_falling_gravity_spreads_by_the_fall_between_first_and_last_hour() -> None:
    falling = minutely(24, lambda i: 1.050 - 0.001 * (i // 60))
    spread = slice_spread(falling, END, timedelta(hours=24))
    assert spread is not None
    assert abs(spread[0] - 0.023) < 1e-9


def test_points_before_the_window_are_ignored_and_one_slice_says_nothing() -> None:
    old_then_flat = [(END - timedelta(hours=30), 1.050), *minutely(0.5)]
    assert slice_spread(old_then_flat, END, timedelta(hours=24)) is None
    assert slice_spread([], END, timedelta(hours=24)) is None
