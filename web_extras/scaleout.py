"""Several service processes behind a load balancer, sharing live traffic through Redis.

- ``/live`` broadcasts: python-socketio's ``AsyncRedisManager`` (set up in app.py)
  delivers every emit to the browsers of every process.
- Which process holds which device: a Redis hash ``beerpi:devices`` (device id →
  its device payload, state and link kind), kept by the process that holds the
  link, so any process can list and describe every online device.
- Commands: each link's messages are sealed with a key only the process that
  holds the link knows (protocol 2), so a command for a device linked to another
  process goes to that process as a small request on its Redis channel
  ``beerpi:calls:<process id>``; it runs the command on its link and publishes
  the answer on the caller's channel. This works for dial-in and dial-out links.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from beerpi_protocol.client import ack_to_result
from beerpi_protocol.errors import BeerPiConnectionError, BeerPiRequestError

from .hub import DeviceHub, DeviceRecord, QuietListener
from .keys import CONFIG, HUB

_LOGGER = logging.getLogger(__name__)

REGISTRY = "beerpi:devices"
CALLS = "beerpi:calls:"


class RedisRouter(QuietListener):
    """RemoteRouter and HubListener: publishes this process's devices, reaches others'."""

    def __init__(self, redis: aioredis.Redis, hub: DeviceHub, timeout_s: float) -> None:
        self._redis = redis
        self._hub = hub
        self._timeout_s = timeout_s
        self._mine: set[str] = set()
        self.process = uuid.uuid4().hex
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- RemoteRouter --------------------------------------------------------

    async def device_ids(self) -> list[str]:
        keys = await self._redis.hkeys(REGISTRY)
        return [k.decode() if isinstance(k, bytes) else str(k) for k in keys]

    async def describe(self, device: str) -> dict[str, Any] | None:
        raw = await self._redis.hget(REGISTRY, device)
        if raw is None:
            return None
        value = json.loads(raw)
        return value if isinstance(value, dict) else None

    async def call(self, device: str, request: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        described = await self.describe(device)
        if described is None:
            raise BeerPiConnectionError(f"{device} is not linked to any service process")
        process = described.get("process")
        if not isinstance(process, str):
            raise BeerPiConnectionError(f"{device} is linked to a process that takes no commands")
        call_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        message = {
            "id": call_id,
            "reply": self.process,
            "device": device,
            "request": request,
            "payload": dict(payload),
        }
        try:
            await self._redis.publish(CALLS + process, json.dumps(message))
            async with asyncio.timeout(self._timeout_s):
                answer = await future
        except TimeoutError as err:
            raise BeerPiConnectionError(f"{request}: no answer within {self._timeout_s} s") from err
        finally:
            self._waiting.pop(call_id, None)
        error = answer.get("connection_error")
        if isinstance(error, str):
            raise BeerPiConnectionError(error)
        return ack_to_result(request, answer.get("answer"))

    async def subscribe(self) -> Any:
        """This process's call channel, subscribed before any device is published."""
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(CALLS + self.process)
        return pubsub

    async def listen(self, pubsub: Any) -> None:
        """Run commands other processes send for this process's links; take their answers."""
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    data = json.loads(message["data"])
                except (ValueError, TypeError):
                    continue
                if not isinstance(data, dict):
                    continue
                future = self._waiting.get(str(data.get("reply_to")))
                if future is not None:
                    if not future.done():
                        future.set_result(data)
                elif "request" in data:
                    task = asyncio.create_task(self._run(data))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        finally:
            await pubsub.aclose()

    async def _run(self, message: dict[str, Any]) -> None:
        device, request = str(message.get("device")), str(message.get("request"))
        payload = message.get("payload")
        record = self._hub.find(device)
        answer: dict[str, Any]
        if record is None or record.link is None:
            answer = {"connection_error": f"{device} is no longer linked to that process"}
        else:
            try:
                result = await record.link.call(
                    request, payload if isinstance(payload, dict) else {}
                )
                answer = {"answer": result}
            except BeerPiRequestError as err:
                answer = {"answer": {"ok": False, "error": err.code, "message": err.message}}
            except BeerPiConnectionError as err:
                answer = {"connection_error": str(err)}
        reply = {"reply_to": message.get("id"), **answer}
        await self._redis.publish(CALLS + str(message.get("reply")), json.dumps(reply))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- HubListener (this process's own links) ------------------------------

    async def device_changed(self, record: DeviceRecord) -> None:
        if record.link is not None:
            self._mine.add(record.id)
            await self._publish(record)
        elif record.id in self._mine:
            self._mine.discard(record.id)
            await self._redis.hdel(REGISTRY, record.id)

    async def state_changed(self, record: DeviceRecord) -> None:
        if record.link is not None:
            await self._publish(record)

    async def _publish(self, record: DeviceRecord) -> None:
        assert record.link is not None
        value = {
            "device": None if record.info is None else record.info.to_dict(),
            "state": None if record.state is None else record.state.to_dict(),
            "link": record.link.kind,
            "process": self.process,
        }
        await self._redis.hset(REGISTRY, record.id, json.dumps(value))

    async def forget_mine(self) -> None:
        """At shutdown: this process's devices are no longer reachable through it."""
        if self._mine:
            await self._redis.hdel(REGISTRY, *self._mine)
            self._mine.clear()


def attach_scaleout(app: web.Application, redis_url: str) -> None:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        redis = aioredis.from_url(redis_url)
        hub = app[HUB]
        router = RedisRouter(redis, hub, app[CONFIG].request_timeout_s)
        hub.remote = router
        hub.add_listener(router)
        pubsub = await router.subscribe()
        listener = asyncio.create_task(router.listen(pubsub), name="beerpi-scaleout-calls")
        yield
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await router.close()
        try:
            await router.forget_mine()
        finally:
            await redis.aclose()

    app.cleanup_ctx.append(ctx)
