"""A notification endpoint on 127.0.0.1 (what Apprise's ``json://`` posts to), a fake clock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.support.daemon import free_port


@dataclass
class Inbox:
    """Every notification the loopback endpoint received, per path (one path per target)."""

    port: int
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail: bool = False

    def url(self, name: str) -> str:
        return f"json://127.0.0.1:{self.port}/{name}"

    def titles(self, name: str | None = None) -> list[str]:
        return [body["title"] for path, body in self.received if name is None or path == name]

    def messages(self, name: str | None = None) -> list[dict[str, Any]]:
        return [body for path, body in self.received if name is None or path == name]

    async def wait_for(self, count: int, timeout_s: float = 20) -> None:
        """Until ``count`` notifications arrived (bounded): for the end-to-end tests."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while len(self.received) < count:
            if loop.time() > deadline:
                raise TimeoutError(f"{len(self.received)} of {count} notifications arrived")
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def notification_endpoint() -> AsyncIterator[Inbox]:
    inbox = Inbox(free_port())

    async def receive(request: web.Request) -> web.Response:
        if inbox.fail:
            return web.Response(status=500, text="down for maintenance")
        inbox.received.append((request.match_info["name"], await request.json()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{name}", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", inbox.port).start()
    try:
        yield inbox
    finally:
        await runner.cleanup()


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)
