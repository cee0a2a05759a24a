"""The alert engine: a hub listener that runs the rules and sends what they decide.

It sees what the service already receives (state snapshots, fault pushes, links
coming and going) and checks the waiting rules every ``CHECK_EVERY_S``. Sending
happens on its own task through a bounded queue, so a slow mail server never
holds up storing readings; when the queue is full the oldest message is dropped
and the drop is logged. Time comes from an injected clock (tests drive it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from beerpi_protocol.models import FaultInfo
from web_extras.hub import DeviceHub, DeviceRecord, QuietListener
from web_extras.store import Event, EventKind

from .limiter import RateLimiter
from .notifier import Notifier
from .rules import (
    Alert,
    DeviceView,
    FaultAlerts,
    GravityStableAlerts,
    OfflineAlerts,
    OutOfRangeAlerts,
    ProfileStepAlerts,
    Severity,
)
from .settings import (
    AlertsConfig,
    FaultRule,
    GravityStableRule,
    OfflineRule,
    OutOfRangeRule,
    ProfileStepRule,
)

_LOGGER = logging.getLogger(__name__)

CHECK_EVERY_S = 15.0
QUEUE_SIZE = 100

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    severity: Severity
    targets: Sequence[str]


def view_of(record: DeviceRecord) -> DeviceView:
    info = record.info
    if info is None:
        return DeviceView(record.id, record.id, {})
    return DeviceView(record.id, info.name or record.id, {p.id: p.name for p in info.probes})


class AlertEngine(QuietListener):
    def __init__(
        self,
        config: AlertsConfig,
        hub: DeviceHub,
        notifier: Notifier,
        clock: Clock = utc_now,
        *,
        known_start_offline: bool = True,
    ) -> None:
        self.config = config
        self.hub = hub
        self.notifier = notifier
        self.clock = clock
        self.known_start_offline = known_start_offline
        # The test button's own limit: a button pressed in a loop must not flood a phone.
        self.test_limiter = RateLimiter(3, timedelta(minutes=1))
        self.limiter = RateLimiter(config.max_per_window, timedelta(minutes=config.window_min))
        self.faults: list[FaultAlerts] = []
        self.ranges: list[OutOfRangeAlerts] = []
        self.offline: list[OfflineAlerts] = []
        self.profiles: list[ProfileStepAlerts] = []
        self.gravity: list[GravityStableAlerts] = []
        for index, rule in enumerate(config.rules):
            if isinstance(rule, FaultRule):
                self.faults.append(FaultAlerts(index, rule))
            elif isinstance(rule, OutOfRangeRule):
                self.ranges.append(OutOfRangeAlerts(index, rule))
            elif isinstance(rule, OfflineRule):
                self.offline.append(OfflineAlerts(index, rule))
            elif isinstance(rule, ProfileStepRule):
                self.profiles.append(ProfileStepAlerts(index, rule))
            elif isinstance(rule, GravityStableRule):
                self.gravity.append(GravityStableAlerts(index, rule))
        self._queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_SIZE)
        self.dropped = 0
        self._tasks: list[asyncio.Task[None]] = []

    # -- life cycle ------------------------------------------------------------

    async def start(self) -> None:
        """Devices known from history but not linked count as offline from now.

        Not with Redis scale-out (``known_start_offline=False``): every process
        knows every device, and each would tell the same news; there a device is
        watched from the moment it leaves the process that held its link.
        """
        now = self.clock()
        for record in self.hub.records() if self.known_start_offline else ():
            if not record.online:
                await self._offer(self._on_device(record, online=False, now=now))
        self._tasks = [
            asyncio.create_task(self._send_loop(), name="beerpi-alerts-send"),
            asyncio.create_task(self._check_loop(), name="beerpi-alerts-check"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    # -- hub listener ------------------------------------------------------------

    async def device_changed(self, record: DeviceRecord) -> None:
        await self._offer(self._on_device(record, record.online, self.clock()))

    async def state_changed(self, record: DeviceRecord) -> None:
        state = record.state
        if state is None:
            return
        now, view = self.clock(), view_of(record)
        alerts: list[Alert] = []
        for rules in (self.faults, self.ranges, self.profiles, self.gravity):
            for rule in rules:
                alerts += rule.on_state(view, state, now)
        await self._offer(alerts)

    async def event_added(self, event: Event) -> None:
        if event.kind not in (EventKind.FAULT_RAISED, EventKind.FAULT_CLEARED):
            return
        fault = FaultInfo.from_dict(event.data)
        # The event's kind is the edge, whatever the payload claims.
        fault = FaultInfo(
            source=fault.source,
            code=fault.code,
            message=fault.message,
            since=fault.since,
            active=event.kind is EventKind.FAULT_RAISED,
        )
        record = self.hub.find(event.device)
        view = view_of(record) if record is not None else DeviceView(event.device, event.device, {})
        now = self.clock()
        alerts: list[Alert] = []
        for rule in self.faults:
            alerts += rule.on_fault(view, fault, now)
        await self._offer(alerts)

    # -- timers ------------------------------------------------------------------

    async def check(self) -> None:
        """Fire the waiting rules that are due, and the summaries the rate limit allows."""
        now = self.clock()
        alerts: list[Alert] = []
        for rule in self.ranges:
            alerts += rule.check(now)
        for offline in self.offline:
            for alert in offline.check(now):
                if await self._linked_anywhere(alert.device):
                    offline.forget(alert.device)
                else:
                    alerts.append(alert)
        await self._offer(alerts)
        for summary in self.limiter.summaries(now):
            self._enqueue(summary)

    async def _linked_anywhere(self, device: str) -> bool:
        record = self.hub.find(device)
        if record is not None and record.online:
            return True
        if self.hub.remote is None:
            return False
        try:  # with Redis scale-out, another service process may hold its link
            return device in await self.hub.remote.device_ids()
        except Exception:
            _LOGGER.warning("could not ask the other service processes about %s", device)
            return False

    # -- sending -------------------------------------------------------------------

    def _on_device(self, record: DeviceRecord, online: bool, now: datetime) -> list[Alert]:
        alerts: list[Alert] = []
        view = view_of(record)
        for offline in self.offline:
            alerts += offline.on_device(view, online, now)
        for rule in self.ranges:
            rule.on_device(record.id, online, now)
        return alerts

    async def _offer(self, alerts: Sequence[Alert]) -> None:
        now = self.clock()
        for alert in alerts:
            if self.limiter.admit((alert.rule, alert.device), alert, now):
                self._enqueue(alert)
            else:
                _LOGGER.info("alert held back by the rate limit: %s", alert.title)

    def _enqueue(self, alert: Alert) -> None:
        rule = self.config.rules[alert.rule] if alert.rule < len(self.config.rules) else None
        message = Message(
            f"{self.config.title}: {alert.title}",
            alert.body,
            alert.severity,
            tuple(rule.notify) if rule is not None else (),
        )
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            _LOGGER.warning(
                "alert queue full: dropped the oldest message (%d so far)", self.dropped
            )
        self._queue.put_nowait(message)

    async def _send_loop(self) -> None:
        while True:
            message = await self._queue.get()
            try:
                await self.notifier.send(
                    message.title, message.body, message.severity, message.targets
                )
            except Exception:  # a broken target must not stop the alerts
                _LOGGER.exception("sending alert %r failed", message.title)
            finally:
                self._queue.task_done()

    async def drain(self) -> None:
        """Wait until every queued message has been handed to the notifier (tests)."""
        await self._queue.join()

    async def _check_loop(self) -> None:
        while True:
            await asyncio.sleep(CHECK_EVERY_S)
            try:
                await self.check()
            except Exception:
                _LOGGER.exception("checking the alert rules failed")

    async def send_test(self, target: str | None = None) -> bool:
        """A test notification to one target or all, sent at once (not rate limited here)."""
        names = [target] if target else list(self.notifier.targets)
        return await self.notifier.send(
            f"{self.config.title}: test notification",
            "If you can read this, BeerPi's alerts reach you here "
            f"({', '.join(names)}). Sent {self.clock():%Y-%m-%d %H:%M} UTC.",
            Severity.INFO,
            [target] if target else (),
        )
