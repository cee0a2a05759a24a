"""Keeps the daemon's long-running tasks alive: only ``stop`` ends them.

The control loop, the dial-out link and any other long-running task run under
``supervise``: a task that crashes or returns early is logged and started
again after a capped backoff, so that nothing a client, the network or a bug
in one task does can stop temperature control. Only a signal (``app.STOP_SIGNALS``:
SIGTERM, SIGINT and the others whose default is to end the process; each sets
``stop``) ends the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

_LOGGER = logging.getLogger(__name__)

RESTART_MIN_S = 1.0
RESTART_MAX_S = 30.0
# A task that ran this long before it failed starts again at the shortest delay.
HEALTHY_S = 60.0


async def supervise(
    name: str,
    run: Callable[[asyncio.Event], Awaitable[None]],
    stop: asyncio.Event,
    *,
    restart_min_s: float = RESTART_MIN_S,
    restart_max_s: float = RESTART_MAX_S,
) -> int:
    """Run ``run(stop)`` until ``stop`` is set, restarting it; returns how often it restarted."""
    loop = asyncio.get_running_loop()
    restarts = 0
    failures = 0
    while not stop.is_set():
        started = loop.time()
        try:
            await run(stop)
        except asyncio.CancelledError:
            # Only a cancel of this supervisor ends it. A CancelledError that comes out
            # of the task with no cancel pending here (a library's inner task cancelled
            # and re-raised, as engine.io's read loop once did in the dial-out) is a
            # crash like any other: left to propagate it ended that task for good,
            # silently, and the control loop runs under this too.
            current = asyncio.current_task()
            if current is None or current.cancelling():
                raise
            _LOGGER.error("%s was cancelled from within; restarting it", name)
        except Exception:
            _LOGGER.exception("%s crashed; restarting it", name)
        else:
            if stop.is_set():
                break
            _LOGGER.error("%s ended by itself; restarting it", name)
        failures = 1 if loop.time() - started >= HEALTHY_S else failures + 1
        restarts += 1
        delay = min(restart_max_s, restart_min_s * 2.0 ** (failures - 1))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
    return restarts
