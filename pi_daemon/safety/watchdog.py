"""The watchdog: a thread that switches every relay off when the control loop stalls.

It is a thread, not a task, so it acts when the event loop itself is blocked
(a hung driver call, a runaway computation), which is exactly when a task
could not run. The loop feeds it after every completed control step; when no
step has completed for ``limit_s`` real seconds the thread calls ``on_stall``.
The thread sleeps until that deadline (the last feed plus ``limit_s``) rather
than waking on a tick: a healthy loop costs one wake-up per ``limit_s``, and
the relays go off at the deadline itself, not up to a tick after it. The
first step that starts after a stall calls ``on_recover`` from the loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

_LOGGER = logging.getLogger(__name__)
# Event.wait may return a few microseconds early; this much later is sure to be past.
_PAST_S = 0.002


class Watchdog:
    def __init__(
        self,
        limit_s: float,
        *,
        on_stall: Callable[[float], None],
        on_recover: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not limit_s > 0:
            raise ValueError("the watchdog's limit must be positive")
        self.limit_s = limit_s
        self._on_stall = on_stall
        self._on_recover = on_recover
        self._clock = clock
        self._fed = clock()
        self._tripped_at: float | None = None
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def tripped(self) -> bool:
        return self._tripped_at is not None

    @property
    def fed_at(self) -> float:
        """When the last control step completed (this clock): the deadline is this + the limit."""
        return self._fed

    def start(self) -> None:
        self._fed = self._clock()
        self._thread = threading.Thread(target=self._watch, name="beerpi-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def feed(self, step_started: float) -> None:
        """A control step that began at ``step_started`` (this clock) has completed."""
        self._fed = self._clock()
        tripped_at = self._tripped_at
        if tripped_at is not None and step_started > tripped_at:
            self._tripped_at = None
            _LOGGER.warning("control loop running again")
            self._on_recover()

    def now(self) -> float:
        """The watchdog's clock (real seconds), for the loop's ``feed``."""
        return self._clock()

    def check(self) -> None:
        """One look (the thread does this at each deadline): trip if the loop has stalled."""
        stalled_s = self._clock() - self._fed
        if stalled_s > self.limit_s and self._tripped_at is None:
            self._tripped_at = self._clock()
            _LOGGER.error("control loop stalled for %.1f s: every relay off", stalled_s)
            try:
                self._on_stall(stalled_s)
            except Exception:
                _LOGGER.exception("watchdog could not act")

    def seconds_to_deadline(self) -> float:
        """How long the thread may sleep before it must look again."""
        if self._tripped_at is not None:
            return self.limit_s  # nothing to do until the loop runs again (feed recovers)
        # A hair past the deadline, so the look that wakes there finds it passed.
        return max(0.0, self._fed + self.limit_s - self._clock()) + _PAST_S

    def _watch(self) -> None:
        while not self._halt.wait(self.seconds_to_deadline()):
            self.check()
