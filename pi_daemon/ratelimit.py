"""A token bucket: ``rate_per_s`` on average, bursts up to ``burst``."""

from __future__ import annotations


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: float) -> None:
        self._rate = rate_per_s
        self._burst = burst
        self._tokens = burst
        self._last: float | None = None

    def allow(self, now_s: float) -> bool:
        if self._last is not None:
            self._tokens = min(self._burst, self._tokens + (now_s - self._last) * self._rate)
        self._last = now_s
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
