"""A per-minute allowance (a token bucket), for what one device may send."""

from __future__ import annotations

import time
from collections.abc import Callable


class PerMinute:
    """``per_minute`` units, refilled continuously; a full minute's worth may come at once."""

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate_s = per_minute / 60.0
        self._capacity = float(per_minute)
        self._tokens = float(per_minute)
        self._clock = clock
        self._stamp = clock()

    def take(self, units: int = 1) -> bool:
        """Spend ``units`` if that many are left; False (nothing spent) if not."""
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate_s)
        self._stamp = now
        if units > self._tokens:
            return False
        self._tokens -= units
        return True
