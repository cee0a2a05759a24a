"""combine(): per-bucket rows from the stores' series pieces into the grid's buckets."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from web_extras.store.base import Grid, PartRow, combine

START = datetime(2026, 1, 1, tzinfo=UTC)
GRID = Grid.of(START, START + timedelta(hours=10), 10)  # ten 1-hour buckets


def test_rows_of_one_bucket_merge_into_one() -> None:
    rows: list[PartRow] = [
        (0, 19.0, 19.5, 39.0, 2),
        (0, 18.5, 19.2, 37.5, 2),
        (3, 20.0, 20.0, 20.0, 1),
    ]
    first, fourth = combine(GRID, rows)
    assert (first.start, first.end) == (START, START + timedelta(hours=1))
    assert (first.min, first.max, first.count) == (18.5, 19.5, 4)
    assert first.mean == 76.5 / 4
    assert (fourth.start, fourth.mean, fourth.count) == (START + timedelta(hours=3), 20.0, 1)


def test_the_order_of_rows_and_sources_does_not_matter() -> None:
    chance = random.Random(7)
    rows: list[PartRow] = []
    for index in range(10):
        for _ in range(chance.randint(1, 4)):
            low = chance.randint(40, 80) / 4  # sums exact in any order
            rows.append((index, low, low + 1, 3 * low, 3))
    ordered = combine(GRID, rows)
    assert [bucket.start for bucket in ordered] == [START + timedelta(hours=h) for h in range(10)]
    for _ in range(5):
        shuffled = rows[:]
        chance.shuffle(shuffled)
        cut = chance.randint(0, len(rows))
        assert combine(GRID, shuffled[:cut], shuffled[cut:]) == ordered


def test_a_bucket_with_nothing_in_it_is_left_out() -> None:
    rows: list[PartRow] = [(1, 19.0, 19.0, 0.0, 0), (2, 19.0, 19.0, 19.0, 1)]
    assert [bucket.start for bucket in combine(GRID, rows)] == [START + timedelta(hours=2)]
    assert combine(GRID) == []
