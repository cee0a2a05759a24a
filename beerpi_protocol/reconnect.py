"""Keeps a BeerPiClient connected: capped exponential backoff, stop on a refused token."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
from collections.abc import Awaitable, Callable

from .client import BeerPiClient
from .errors import (
    BeerPiAuthError,
    BeerPiConnectionError,
    BeerPiError,
    BeerPiProtocolVersionError,
    BeerPiWrongDeviceError,
)

_LOGGER = logging.getLogger(__name__)


class LinkState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    WAITING = "waiting"  # backing off before the next try
    STOPPED = "stopped"  # stop() called, or the token/protocol/device was refused


class ReconnectLogic:
    """Connects a client and reconnects it after every drop until stopped.

    Hooks are awaited: ``on_connected`` after each successful connect,
    ``on_disconnected`` after each drop, ``on_connect_failed`` after each failed
    try that will be retried, ``on_fatal`` when the handshake fails (another
    token, or not the device: BeerPiAuthError), the daemon proves another device
    id than the client expects (BeerPiWrongDeviceError), or it speaks another
    protocol. No further tries then: retrying would only fill logs, and another
    device must never be driven by mistake.
    The first failure is logged as a warning, repeats at debug level, and the
    recovery at info, so a long outage does not flood the log. With
    ``quiet=True`` everything is logged at debug level: the owner logs the
    transitions itself (Home Assistant wants one line each way).
    """

    def __init__(
        self,
        client: BeerPiClient,
        *,
        on_connected: Callable[[], Awaitable[None]] | None = None,
        on_disconnected: Callable[[], Awaitable[None]] | None = None,
        on_fatal: Callable[[BeerPiError], Awaitable[None]] | None = None,
        on_connect_failed: Callable[[BeerPiError], Awaitable[None]] | None = None,
        min_delay_s: float = 1.0,
        max_delay_s: float = 60.0,
        name: str | None = None,
        quiet: bool = False,
    ) -> None:
        self._client = client
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._on_fatal = on_fatal
        self._on_connect_failed = on_connect_failed
        self._quiet = quiet
        self._min_delay_s = min_delay_s
        self._max_delay_s = max_delay_s
        self._name = name or client.base_url
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.state = LinkState.IDLE
        self.failures = 0
        # Why the last try failed (None after a success): for status displays.
        self.last_error: BeerPiError | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"beerpi-reconnect-{self._name}"
            )

    def wake(self) -> None:
        """Try now instead of waiting out the backoff (e.g. zeroconf saw the daemon)."""
        self._wake.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        self.state = LinkState.STOPPED
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._client.disconnect()

    def _log(self, level: int, message: str, *args: object) -> None:
        _LOGGER.log(logging.DEBUG if self._quiet else level, message, *args)

    def next_delay_s(self) -> float:
        """Backoff after ``failures`` failed tries: doubling, capped, with jitter."""
        base: float = min(self._max_delay_s, self._min_delay_s * 2.0 ** max(0, self.failures - 1))
        return base * random.uniform(0.8, 1.0)

    async def _run(self) -> None:
        while True:
            self.state = LinkState.CONNECTING
            try:
                if not self._client.connected:
                    await self._client.connect()
            except (BeerPiAuthError, BeerPiProtocolVersionError, BeerPiWrongDeviceError) as err:
                self.state = LinkState.STOPPED
                self.last_error = err
                self._log(logging.ERROR, "%s: %s; not retrying", self._name, err)
                if self._on_fatal is not None:
                    await self._on_fatal(err)
                return
            except BeerPiError as err:
                await self._failed(err)
                continue
            except Exception as err:
                # A library's own error the client did not turn into a BeerPiError would
                # end this task, and with it every later reconnect: retry instead.
                _LOGGER.warning("%s: unexpected error connecting", self._name, exc_info=True)
                await self._failed(BeerPiConnectionError(f"{type(err).__name__}: {err}"))
                continue
            if self.failures:
                self._log(
                    logging.INFO, "%s reachable again after %d tries", self._name, self.failures
                )
            self.failures = 0
            self.last_error = None
            self.state = LinkState.CONNECTED
            if self._on_connected is not None:
                await self._on_connected()
            await self._client.wait_disconnected()
            self._log(logging.WARNING, "%s: connection lost; reconnecting", self._name)
            self.state = LinkState.WAITING
            self._wake.clear()
            if self._on_disconnected is not None:
                await self._on_disconnected()
            # A short pause so a daemon that restarts is not hit mid-start-up.
            self.failures = 1
            await self._pause()

    async def _failed(self, err: BeerPiError) -> None:
        """A try that failed for a reason worth retrying: back off, then try again."""
        self.failures += 1
        self.last_error = err
        level = logging.WARNING if self.failures == 1 else logging.DEBUG
        self._log(level, "%s unreachable (%s); retrying with backoff", self._name, err)
        self.state = LinkState.WAITING
        self._wake.clear()
        if self._on_connect_failed is not None:
            await self._on_connect_failed(err)
        await self._pause()

    async def _pause(self) -> None:
        """Wait out the backoff, or less if ``wake()`` is called meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.next_delay_s())
