"""A watchdog thread: if the control loop stalls, relays go off.

It is a thread, not a task, so it still acts when the event loop itself is
blocked (a hung driver call, a runaway computation), which is exactly when a
task could not run.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from beerpi_protocol import FaultCode

from .service import Daemon

_LOGGER = logging.getLogger(__name__)


def stall_limit_s(daemon: Daemon) -> float:
    """Real seconds without a completed control step before relays are forced off."""
    return max(10.0, 5 * daemon.read_period_s() / daemon.clock.speed)


async def run_watchdog(daemon: Daemon, stop: asyncio.Event) -> None:
    limit_s = stall_limit_s(daemon)
    tripped = threading.Event()
    halt = threading.Event()

    def watch() -> None:
        while not halt.wait(min(1.0, limit_s / 4)):
            if time.monotonic() - daemon.last_loop_real > limit_s and not tripped.is_set():
                tripped.set()
                _LOGGER.error("control loop stalled for %.0f s: relays off", limit_s)
                for relay in daemon.hardware.relays.values():
                    try:
                        relay.off()
                    except Exception:
                        _LOGGER.exception("watchdog could not switch %s off", relay.id)

    thread = threading.Thread(target=watch, name="beerpi-watchdog", daemon=True)
    thread.start()
    try:
        while not stop.is_set():
            await asyncio.sleep(min(1.0, limit_s / 4))
            if tripped.is_set():
                await daemon.set_extra_fault(
                    "thermostat", FaultCode.WATCHDOG, f"control loop stalled over {limit_s:.0f} s"
                )
                if time.monotonic() - daemon.last_loop_real < limit_s:
                    tripped.clear()
                    await daemon.set_extra_fault("thermostat", FaultCode.WATCHDOG, None)
    finally:
        halt.set()
        thread.join(timeout=5)
