"""A token bucket: ``rate_per_s`` on average, bursts up to ``burst``."""

from __future__ import annotations


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: float) -> None:
        self._rate = rate_per_s
        self._burst = burst
        self._tokens = burst
        self._last: float | None = None

    @classmethod
    def control_allowance(cls, rate_per_s: float) -> RateLimiter:
        """One link's allowance of control requests (docs/protocol.md, ``rate_limited``).

        The one definition for every path a control request comes in by: a client of the
        daemon's own port (server.py) and the service the Pi dials out to (dialout.py).
        ``rate_per_s`` on average, bursts of twice that (never fewer than 5).
        """
        return cls(rate_per_s=rate_per_s, burst=max(5.0, rate_per_s * 2))

    def allow(self, now_s: float) -> bool:
        if self._last is not None:
            self._tokens = min(self._burst, self._tokens + (now_s - self._last) * self._rate)
        self._last = now_s
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
