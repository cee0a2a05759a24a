"""Gravity between the service and the daemons, both ways.

A daemon's own Tilt readings arrive in its state (``hydrometers``): each new
one is stored in the history, like an iSpindel's post. An iSpindel's reading,
posted to the service, is handed to its fermenter's daemon (``report_gravity``)
so the Pi's profile steps can end on gravity. Neither direction may hold up
or fail the other: a daemon that is offline or refuses is logged and skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime

from beerpi_guard.logthrottle import ThrottledLog
from beerpi_protocol.requests import ReportGravity
from beerpi_protocol.timestamps import iso

from .hub import DeviceHub, DeviceRecord, QuietListener
from .limits import PerMinute
from .sanitize import MAX_HYDROMETERS
from .store import HistoryStore
from .store.gravity import GravityReading

_LOGGER = logging.getLogger(__name__)

# Gravity readings stored from one device's states per minute. A Tilt broadcasts
# every few seconds and a daemon's state carries its newest reading, so 16
# hydrometers at one a few seconds apart fit; a device stamping a new reading
# into every state it floods is held to this many rows.
MAX_GRAVITY_PER_MINUTE = 240


class GravityFromStates(QuietListener):
    """A hub listener: the new hydrometer readings in each daemon state, stored."""

    def __init__(
        self,
        store: HistoryStore,
        on_stored: Callable[[Sequence[GravityReading]], Awaitable[None]] | None = None,
        forwarded: Iterable[tuple[str, str]] = (),
    ) -> None:
        self._store = store
        # (device, hydrometer) of the service's own iSpindels: GravityToDaemons hands
        # their posts to that device's daemon, whose state then carries them back; they
        # are stored from the post already.
        self._forwarded = frozenset(forwarded)
        # The live push to open pages (LiveNamespace.gravity_added).
        self._on_stored = on_stored
        # (device, hydrometer) -> the newest reading time stored from a state.
        self._stored: dict[tuple[str, str], datetime] = {}
        # device -> the hydrometers stored from its states, at most MAX_HYDROMETERS:
        # a daemon keeps no more, so one naming new ones in every state is capped.
        self._hydrometers: dict[str, set[str]] = {}
        self._allowance: dict[str, PerMinute] = {}
        self._log = ThrottledLog(_LOGGER)

    async def state_changed(self, record: DeviceRecord) -> None:
        state = record.state
        if state is None or not state.hydrometers:
            return
        new: list[GravityReading] = []
        for item in state.hydrometers:
            try:
                reading = GravityReading.from_daemon(record.id, item.to_dict())
            except ValueError as err:
                _LOGGER.debug("%s: hydrometer reading skipped: %s", record.id, err)
                continue
            if (record.id, reading.hydrometer) in self._forwarded:
                continue
            if not self._known(record.id, reading.hydrometer):
                continue
            key = (record.id, reading.hydrometer)
            if key in self._stored and reading.timestamp <= self._stored[key]:
                continue  # the same reading in every state until the next one comes
            if not self._allowed(record.id):
                continue  # a later state carries a newer reading, stored once allowed
            self._stored[key] = reading.timestamp
            new.append(reading)
        if new:
            stored = await self._store.add_gravity(new)
            # 0: all were stored already, e.g. an iSpindel's reading handed to the
            # daemon coming back in its state: the pages have it from the post.
            if stored and self._on_stored is not None:
                await self._on_stored(new)

    def _allowed(self, device: str) -> bool:
        """One from the device's gravity allowance; False (and a warning) if none left."""
        allowance = self._allowance.get(device)
        if allowance is None:
            allowance = self._allowance[device] = PerMinute(MAX_GRAVITY_PER_MINUTE)
        if allowance.take():
            return True
        self._log.warning(
            f"gravity:{device}",
            "%s: more than %d gravity readings a minute in its states; storing the rest later",
            device,
            MAX_GRAVITY_PER_MINUTE,
        )
        return False

    def _known(self, device: str, hydrometer: str) -> bool:
        """True for one of the device's first MAX_HYDROMETERS (a warning for others)."""
        known = self._hydrometers.setdefault(device, set())
        if hydrometer in known:
            return True
        if len(known) < MAX_HYDROMETERS:
            known.add(hydrometer)
            return True
        self._log.warning(
            f"hydrometers:{device}",
            "%s: not storing hydrometer %s: the device named %d already (a BeerPi keeps %d)",
            device,
            hydrometer,
            len(known),
            MAX_HYDROMETERS,
        )
        return False


class GravityToDaemons:
    """Hands each stored iSpindel reading to its fermenter's daemon, in the background."""

    def __init__(self, hub: DeviceHub) -> None:
        self._hub = hub
        self._tasks: set[asyncio.Task[None]] = set()

    def forward(self, reading: GravityReading) -> None:
        record = self._hub.find(reading.device)
        if record is not None and not record.online and self._hub.remote is None:
            return  # offline here and no other process to ask: nothing to hand it to
        task = asyncio.create_task(self._send(reading))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, reading: GravityReading) -> None:
        request = ReportGravity(
            hydrometer=reading.hydrometer,
            sg=reading.sg,
            at=iso(reading.timestamp),
            temperature_c=reading.temperature_c,
            battery=reading.battery,
            angle=reading.angle,
        )
        try:
            await self._hub.call(reading.device, request.NAME, request.to_dict())
        except Exception as err:  # offline, refused, too old: the post is stored all the same
            _LOGGER.info(
                "%s: gravity of %s not handed to the daemon: %s",
                reading.device,
                reading.hydrometer,
                err,
            )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
