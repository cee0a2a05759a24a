"""Shared by the reliability tests: a daemon on its own event-loop thread, a raw client."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from beerpi_protocol import ErrorCode
from pi_daemon.config import DaemonConfig
from tests.support.daemon import TOKEN, RunningDaemon, running_daemon
from tests.support.rawlink import RawLink, raw_link

_T = TypeVar("_T")

# internal_error is a daemon failure, not a clear answer to bad input.
CLEAR_ERRORS = frozenset(code.value for code in ErrorCode) - {ErrorCode.INTERNAL_ERROR.value}


class LoopThread:
    """An event loop on a thread, so a sync (hypothesis) test can drive one live daemon."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, _T], timeout: float = 30.0) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.run(_cancel_leftovers())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


async def _cancel_leftovers() -> None:
    """Library background tasks (engine.io pings) end here, not as warnings at exit."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def raw_client(port: int, token: str = TOKEN, *, scheme: str = "http") -> RawLink:
    """An authenticated plain client: it can send any event name and payload type."""
    return await raw_link(f"{scheme}://127.0.0.1:{port}", token)


class LiveDaemon:
    """A daemon and an authenticated raw client living on a ``LoopThread``."""

    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        self.thread = LoopThread()
        self._stack = contextlib.AsyncExitStack()
        self.running: RunningDaemon = self.thread.run(self._start())
        self.sio: RawLink = self.thread.run(raw_client(self.running.port))

    async def _start(self) -> RunningDaemon:
        return await self._stack.enter_async_context(running_daemon(self.config))

    def call(self, event: str, data: Any = None, timeout: float = 5.0) -> Any:
        return self.thread.run(self.sio.call(event, data, timeout_s=timeout), timeout + 5)

    def close(self) -> None:
        try:
            self.thread.run(self.sio.shutdown())
            self.thread.run(self._stack.aclose())
        finally:
            self.thread.close()
