"""Several service processes behind a load balancer, sharing live traffic through Redis.

- ``/live`` broadcasts: python-socketio's ``AsyncRedisManager`` (set up in app.py)
  delivers every emit to the browsers of every process.
- Which process holds which device: a Redis hash ``beerpi:devices`` (device id →
  its device payload, state and link kind), kept by the process that holds the
  link, so any process can list and describe every online device.
- Commands: a dial-out daemon joins the room ``device:<id>`` on ``/devices``;
  ``sio.call`` to that room goes through the Redis manager to the process that
  holds the connection, and the acknowledgement comes back the same way.
  A dial-in link is a client inside one process and is not reachable like that:
  commands for it must reach that process (documented limitation).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis
import socketio
from aiohttp import web

from beerpi_protocol.client import ack_to_result
from beerpi_protocol.errors import BeerPiConnectionError

from .dialout import DEVICES_NAMESPACE, device_room
from .hub import DeviceRecord
from .keys import CONFIG, HUB, SIO
from .store import Event, StoredReading

_LOGGER = logging.getLogger(__name__)

REGISTRY = "beerpi:devices"


class RedisRouter:
    """RemoteRouter and HubListener: publishes this process's devices, reaches others'."""

    def __init__(self, redis: aioredis.Redis, sio: socketio.AsyncServer, timeout_s: float) -> None:
        self._redis = redis
        self._sio = sio
        self._timeout_s = timeout_s
        self._mine: set[str] = set()

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
        if described.get("link") != "dial-out":
            raise BeerPiConnectionError(
                f"{device} is linked by dial-in to another service process; send commands there"
            )
        try:
            ack = await self._sio.call(
                request,
                dict(payload),
                to=device_room(device),
                namespace=DEVICES_NAMESPACE,
                timeout=self._timeout_s,
            )
        except socketio.exceptions.TimeoutError as err:
            raise BeerPiConnectionError(f"{request}: no answer within {self._timeout_s} s") from err
        return ack_to_result(request, ack)

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

    async def readings_added(self, device: str, readings: Sequence[StoredReading]) -> None:
        return None

    async def event_added(self, event: Event) -> None:
        return None

    async def _publish(self, record: DeviceRecord) -> None:
        assert record.link is not None
        value = {
            "device": None if record.info is None else record.info.to_dict(),
            "state": None if record.state is None else record.state.to_dict(),
            "link": record.link.kind,
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
        router = RedisRouter(redis, app[SIO], app[CONFIG].request_timeout_s)
        hub = app[HUB]
        hub.remote = router
        hub.add_listener(router)
        yield
        try:
            await router.forget_mine()
        finally:
            await redis.aclose()

    app.cleanup_ctx.append(ctx)
