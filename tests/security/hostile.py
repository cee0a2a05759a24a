"""A hostile device: it holds only its own dial-out token and says whatever it likes.

Underneath is the daemon's real dial-out client (``pi_daemon.dialout.DialOut``),
so the device connects to the web service exactly as a Pi behind NAT does,
whatever the handshake is; only what it announces, pushes and answers is
chosen by the test.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pi_daemon.config import DialOutSection
from pi_daemon.dialout import DialOut

XSS = '<img src=x onerror="window.__pwned=(window.__pwned||0)+1">'
HTML_PAGE = b"<!doctype html><script>window.__pwned=(window.__pwned||0)+1</script>evil"
# The smallest files of the types BeerPi makes (their first bytes are what counts).
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"
MP4 = b"\x00\x00\x00\x20ftypisom" + b"\x00" * 64

Answer = dict[str, Any]
Answerer = Callable[[str, Any], Awaitable[Answer | None]]


def strong_token() -> str:
    return secrets.token_hex(16)  # never starts with "-" (a command-line option)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def readings(probes: list[str], count: int, *, first_seq: int = 1, step_s: float = 300) -> Answer:
    """A readings page: ``count`` readings per probe, the newest now, seq from ``first_seq``."""
    now = datetime.now(UTC)
    rows = []
    seq = first_seq
    for i in range(count):
        at = now - timedelta(seconds=step_s * (count - 1 - i))
        for probe in probes:
            rows.append({"seq": seq, "probe": probe, "timestamp": iso(at), "temperature": 18.5})
            seq += 1
    return {"readings": rows, "cursor": str(seq - 1), "more": False, "gap": False}


@dataclass
class _Plain:
    data: Answer

    def to_dict(self) -> Answer:
        return dict(self.data)


@dataclass
class _FakeDaemon:
    """What DialOut needs of a daemon: its announcement, a state, a publisher hook."""

    info: Answer
    snapshot: Answer
    publishers: list[Callable[[str, Answer], Awaitable[None]]] = field(default_factory=list)

    @property
    def device(self) -> Any:
        plain = _Plain(self.info)
        plain.id = self.info["id"]  # type: ignore[attr-defined]
        return plain

    def state(self) -> _Plain:
        return _Plain(self.snapshot)

    def add_publisher(
        self, publisher: Callable[[str, Answer], Awaitable[None]], audience: Callable[[], bool]
    ) -> Any:
        self.publishers.append(publisher)
        return lambda: self.publishers.remove(publisher)


class _Handler:
    def __init__(self, answer: Answerer) -> None:
        self._answer = answer
        self.requests: list[str] = []

    async def handle(self, event: str, payload: Any) -> Answer:
        self.requests.append(event)
        answer = await self._answer(event, payload)
        if answer is None:
            return {"ok": False, "error": "unknown_request", "message": event}
        return {"ok": True, **answer}


def media_answerer(files: Mapping[str, tuple[str, bytes]], chunk: int = 32 * 1024) -> Answerer:
    """Answers get_media from ``files`` (id -> (content type, bytes)), in pieces."""

    async def answer(event: str, payload: Any) -> Answer | None:
        if event != "get_media" or payload.get("id") not in files:
            return None
        content_type, data = files[payload["id"]]
        offset = int(payload.get("offset", 0))
        piece = data[offset : offset + chunk]
        return {
            "id": payload["id"],
            "offset": offset,
            "size": 10,  # a lie: the service must count for itself
            "content_type": content_type,
            "data": base64.b64encode(piece).decode(),
            "eof": offset + len(piece) >= len(data),
        }

    return answer


def outbox_answerer(outbox: list[Answer]) -> Answerer:
    """Answers readings_since like an honest daemon's outbox (cursor = last seq sent)."""

    async def answer(event: str, payload: Any) -> Answer | None:
        if event != "readings_since":
            return None
        after = int(payload.get("cursor") or 0)
        limit = int(payload.get("limit") or 1000)
        rows = [r for r in outbox if r["seq"] > after][:limit]
        cursor = str(rows[-1]["seq"]) if rows else payload.get("cursor")
        more = bool(rows) and rows[-1]["seq"] < outbox[-1]["seq"]
        return {"readings": rows, "cursor": cursor, "more": more, "gap": False}

    return answer


def answering(*answerers: Answerer, pages: list[Answer] | None = None) -> Answerer:
    """The first answerer that knows the request; ``readings_since`` from ``pages``."""
    remaining = list(pages or [])

    async def answer(event: str, payload: Any) -> Answer | None:
        if event == "readings_since" and remaining:
            return remaining.pop(0)
        for each in answerers:
            found = await each(event, payload)
            if found is not None:
                return found
        if event == "readings_since":
            return {"readings": [], "cursor": payload.get("cursor"), "more": False, "gap": False}
        return None

    return answer


class HostileDevice:
    def __init__(
        self, url: str, token: str, info: Answer, state: Answer, answer: Answerer | None = None
    ) -> None:
        self.daemon = _FakeDaemon(info, state)
        self.handler = _Handler(answer or answering())
        self.dialout = DialOut(
            self.daemon,  # type: ignore[arg-type]
            self.handler,  # type: ignore[arg-type]
            DialOutSection(server=url, token=token),
        )
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def push(self, event: str, payload: Answer) -> None:
        for publisher in list(self.daemon.publishers):
            await publisher(event, payload)

    @property
    def connected(self) -> bool:
        sio = self.dialout._sio
        return bool(sio is not None and sio.connected)

    async def start(self, timeout_s: float = 20) -> None:
        self._task = asyncio.create_task(self.dialout.run(self._stop))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not self.connected:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the hostile device gave up connecting")
            if loop.time() > deadline:
                raise TimeoutError("the hostile device did not connect")
            await asyncio.sleep(0.05)
        # The service may drop an event that races its connect handshake: announce again.
        await asyncio.sleep(0.2)
        await self.push("device", self.daemon.info)
        await self.push("state", self.daemon.snapshot)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 10)


@contextlib.asynccontextmanager
async def hostile_device(
    url: str, token: str, info: Answer, state: Answer, answer: Answerer | None = None
) -> AsyncIterator[HostileDevice]:
    device = HostileDevice(url, token, info, state, answer)
    await device.start()
    try:
        yield device
    finally:
        await device.stop()


@contextlib.contextmanager
def in_background(
    make: Callable[[threading.Event], Awaitable[Any]], ready_timeout_s: float = 60
) -> Iterator[asyncio.AbstractEventLoop]:
    """Run ``make(ready)`` on its own event loop in a thread (for sync browser tests).

    ``make`` sets things up, sets ``ready``, then waits until it is cancelled
    at the end of the ``with`` block. Returns the loop, to run more on it.
    """
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    tasks: list[asyncio.Task[Any]] = []

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.append(task)
        await make(ready)

    async def finish() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    future = asyncio.run_coroutine_threadsafe(main(), loop)
    try:
        deadline = ready_timeout_s
        while not ready.wait(0.1):
            deadline -= 0.1
            if future.done():
                future.result()  # raises why it stopped
                raise RuntimeError("the background task ended before it was ready")
            if deadline <= 0:
                raise TimeoutError("the background task did not get ready")
        yield loop
    finally:
        asyncio.run_coroutine_threadsafe(finish(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
