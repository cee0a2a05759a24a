"""python-engineio's log, on the daemon and the web service: each warning or error once a minute.

engineio logs an ERROR with a traceback for every socket.io packet its handler
fails on (a number of 5,000 digits is one), before anyone has logged in: 500
such packets wrote 500 tracebacks, 800 KB of log. Like the other floods a
device or a stranger can cause (``beerpi_guard.logthrottle``), each message is
logged at most once a minute, with a count of the ones left out; engineio's
informational lines pass as they are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

# Children of "engineio": the command lines quiet that to warnings already.
LOGGER_NAME = "engineio.web_extras"
DAEMON_LOGGER_NAME = "engineio.pi_daemon"
# engineio's warnings that say nothing went wrong: a push to a client that left a
# moment before (every Ctrl-C of `make demo` with a page open wrote one).
ROUTINE = frozenset({"Cannot send to sid %s"})


class EngineLog(logging.LoggerAdapter[logging.Logger]):
    """The logger engineio is given (``engineio_logger``): one per server."""

    def __init__(
        self,
        logger: logging.Logger | None = None,
        interval_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        logger = logger or logging.getLogger(LOGGER_NAME)
        if logger.level == logging.NOTSET:
            # Not a line per packet at INFO (engineio's own default is ERROR).
            logger.setLevel(logging.WARNING)
        super().__init__(logger)
        self._interval_s = interval_s
        self._clock = clock
        # Keyed by engineio's message text before its arguments: a few dozen at most.
        self._last: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if level == logging.WARNING and msg in ROUTINE:
            level = logging.DEBUG
        if level >= logging.WARNING and self.isEnabledFor(level):
            key = f"{level}:{msg}"
            now = self._clock()
            last = self._last.get(key)
            if last is not None and now - last < self._interval_s:
                self._skipped[key] = self._skipped.get(key, 0) + 1
                return
            self._last[key] = now
            skipped = self._skipped.pop(key, 0)
            if skipped and last is not None:
                msg = f"{msg} ({skipped} more like this in the last {now - last:.0f} s)"
        super().log(level, msg, *args, **kwargs)
