"""How steady a hydrometer's gravity is over a window: one pure function for every end.

A hydrometer is noisy (a Tilt reads to 0.001 and jitters by about as much), so
raw readings are never compared: the window is cut into slices (an hour each,
or a quarter of a window shorter than four hours) and the medians of the slices
that hold readings are compared. The daemon's "stable within D for H hours"
profile step and the web service's gravity-stable alert both ask this; each
keeps its own rules on top (freshness, coverage, the alert's hysteresis).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime, timedelta


def slice_length(window: timedelta) -> timedelta:
    """An hour, or a quarter of a window shorter than four hours."""
    return min(timedelta(hours=1), window / 4)


def slice_spread(
    points: Iterable[tuple[datetime, float]], end: datetime, window: timedelta
) -> tuple[float, float] | None:
    """How far the slice medians of ``(at, sg)`` points in ``[end - window, ...]`` lie apart.

    Returns ``(spread, median of the medians)``, or None when fewer than two
    slices hold readings (one slice says nothing about a trend).
    """
    start = end - window
    piece = slice_length(window)
    slices: dict[int, list[float]] = {}
    for at, sg in points:
        if at >= start:
            slices.setdefault(int((at - start) / piece), []).append(sg)
    if len(slices) < 2:
        return None
    medians = [statistics.median(values) for values in slices.values()]
    return max(medians) - min(medians), statistics.median(medians)
