"""Log a repeated warning once per interval, with a count of the ones left out.

A flood of refused connections or failed ``accept()`` calls must not become a
flood of log lines: that fills the SD card of a Pi (60 MB in half a minute was
seen) and hides everything else in the journal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

ACCEPT_ERROR = "socket.accept() out of system resource"


class ThrottledLog:
    def __init__(
        self,
        logger: logging.Logger,
        interval_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval_s = interval_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def log(self, level: int, key: str, message: str, *args: object) -> bool:
        """Log unless ``key`` was logged less than the interval ago; True if logged."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._interval_s:
            self._skipped[key] = self._skipped.get(key, 0) + 1
            return False
        skipped = self._skipped.pop(key, 0)
        self._last[key] = now
        if skipped:
            message += " (%d more like this in the last %.0f s)"
            args = (*args, skipped, now - last if last is not None else 0.0)
        self._logger.log(level, message, *args)
        return True

    def warning(self, key: str, message: str, *args: object) -> bool:
        return self.log(logging.WARNING, key, message, *args)


def throttle_accept_errors(
    loop: asyncio.AbstractEventLoop, logger: logging.Logger, interval_s: float = 60.0
) -> None:
    """Log asyncio's "accept() out of system resource" once per interval (idempotent).

    asyncio reports every failed ``accept()`` (EMFILE when the file descriptors
    run out) through the loop's exception handler, with a traceback, up to a
    hundred times per listening socket per second. Everything else still goes
    to the handler that was there before.
    """
    previous = loop.get_exception_handler()
    if getattr(previous, "beerpi_accept_throttle", False):
        return
    throttle = ThrottledLog(logger, interval_s)

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == ACCEPT_ERROR:
            throttle.log(
                logging.ERROR,
                ACCEPT_ERROR,
                "cannot accept new connections: %s (out of file descriptors? see LimitNOFILE "
                "in the systemd unit); retrying every second",
                context.get("exception"),
            )
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handler.beerpi_accept_throttle = True  # type: ignore[attr-defined]
    loop.set_exception_handler(handler)
