"""When a profile step that ends on gravity is done: pure functions of the history.

A hydrometer is noisy (a Tilt reads to 0.001 and jitters by about as much), so
neither condition trusts one reading: "SG at most X" takes the median of the
last three, "stable within D for H hours" compares medians of slices of the
window (an hour each, or a quarter of the window when it is shorter). Both need
gravity that is fresh (the last slice of the window, or for "SG at most" two
hours): a hydrometer that stopped reporting ends nothing (the step's maximum
time does).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from beerpi_protocol.gravity import slice_length, slice_spread

from .book import GravityPoint

# A hydrometer silent for longer than this ends no step.
FRESH: Final = timedelta(hours=2)
LAST_N: Final = 3


def _fresh(history: Sequence[GravityPoint], now: datetime) -> bool:
    return bool(history) and now - history[-1].at <= FRESH


def sg_reached(history: Sequence[GravityPoint], until_sg: float, now: datetime) -> bool:
    """The median of the last three readings is at most ``until_sg``."""
    if len(history) < LAST_N or not _fresh(history, now):
        return False
    return statistics.median(p.sg for p in history[-LAST_N:]) <= until_sg + 1e-9


def gravity_stable(
    history: Sequence[GravityPoint], within: float, hours: float, now: datetime
) -> bool:
    """Readings cover the last ``hours`` and their slice medians lie within ``within``."""
    window = timedelta(hours=hours)
    piece = slice_length(window)
    if not history or now - history[-1].at > piece:
        return False
    if history[0].at > now - window + piece:
        return False  # not watched for long enough yet
    spread = slice_spread(((p.at, p.sg) for p in history), now, window)
    return spread is not None and spread[0] <= within + 1e-9
