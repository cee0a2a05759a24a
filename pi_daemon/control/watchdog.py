"""Watchdog of the control loop: fed every period, checked from elsewhere.

The daemon feeds it after each control step and checks it from an independent
timer (or a thread); when it has expired the checker switches every relay off.
"""

from __future__ import annotations

from beerpi_protocol import FaultCode

from .faults import Fault
from .text import duration


class Watchdog:
    def __init__(self, timeout_s: float, *, start_s: float) -> None:
        if not timeout_s > 0:
            raise ValueError("timeout_s must be positive")
        self.timeout_s = timeout_s
        self._fed_s = start_s

    def feed(self, now_s: float) -> None:
        self._fed_s = max(self._fed_s, now_s)

    def stalled_for(self, now_s: float) -> float:
        return max(0.0, now_s - self._fed_s)

    def expired(self, now_s: float) -> bool:
        return self.stalled_for(now_s) > self.timeout_s

    def check(self, now_s: float) -> Fault | None:
        """A watchdog fault when the loop has stalled, else None."""
        if not self.expired(now_s):
            return None
        return Fault(
            "thermostat",
            FaultCode.WATCHDOG,
            f"control loop stalled for {duration(self.stalled_for(now_s))}: relays off",
            self._fed_s + self.timeout_s,
        )
