"""What each alert rule watches, as plain state machines over the service's inputs.

The engine feeds every rule the same inputs: a device's ``state`` snapshot, a
fault raised or cleared, a device coming online or going offline, and a
periodic ``check`` for rules that wait ("for 20 minutes"). Time is passed in,
never read here, so tests drive it. Each call returns the alerts it decided;
the engine rate-limits and sends them. A new kind of rule is one more class
with its own input method.

Every string that came from a device is cleaned (control characters out,
length capped) before it goes into a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from beerpi_protocol.const import ThermostatMode
from beerpi_protocol.gravity import slice_spread
from beerpi_protocol.models import FaultInfo, ProfileProgress, ProfileStep, State
from beerpi_protocol.timestamps import parse_iso

from .settings import FaultRule, GravityStableRule, OfflineRule, OutOfRangeRule, ProfileStepRule

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def clean(text: object, limit: int = 120) -> str:
    """A device's string, safe to put in a notification: one line, at most ``limit``."""
    value = _CONTROL.sub(" ", str(text)).strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


class Severity(StrEnum):
    PROBLEM = "warning"
    RESOLVED = "success"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Alert:
    rule: int  # index in [[alerts.rules]]: with the device, the rate limit's key
    device: str
    title: str
    body: str
    severity: Severity
    when: datetime
    # An offline alert is sent only if no other service process has the device.
    needs_offline: bool = False


@dataclass(frozen=True, slots=True)
class DeviceView:
    """What the rules know about a device besides its state: its id and names."""

    id: str
    name: str
    probe_names: Mapping[str, str]

    @property
    def label(self) -> str:
        return clean(self.name or self.id, 60)

    def probe(self, probe_id: str) -> str:
        return clean(self.probe_names.get(probe_id) or probe_id, 40)


def _minutes(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def _stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


# -- faults -------------------------------------------------------------------


def _fault_key(fault: FaultInfo) -> tuple[str, str]:
    return fault.source, fault.code.value if fault.code is not None else "unknown"


class FaultAlerts:
    """A fault raised and cleared, from the ``fault`` push or the state's fault list.

    Both paths meet in one set of active faults per device, so each edge is told
    once: a push and the next snapshot agree, and a fault raised or cleared while
    the link was down shows in the first snapshot after it.
    """

    def __init__(self, index: int, rule: FaultRule) -> None:
        self.index, self.rule = index, rule
        self._active: dict[str, dict[tuple[str, str], FaultInfo]] = {}

    def on_fault(self, device: DeviceView, fault: FaultInfo, now: datetime) -> list[Alert]:
        active = self._active.setdefault(device.id, {})
        key = _fault_key(fault)
        if fault.active and key not in active:
            active[key] = fault
            return self._alert(device, fault, now, raised=True)
        if not fault.active and key in active:
            del active[key]
            return self._alert(device, fault, now, raised=False)
        return []

    def on_state(self, device: DeviceView, state: State, now: datetime) -> list[Alert]:
        current = {_fault_key(f): f for f in state.faults if f.active}
        active = self._active.setdefault(device.id, {})
        alerts: list[Alert] = []
        for key, fault in current.items():
            if key not in active:
                active[key] = fault
                alerts += self._alert(device, fault, now, raised=True)
        for key in [k for k in active if k not in current]:
            gone = active.pop(key)
            alerts += self._alert(device, gone, now, raised=False)
        return alerts

    def _alert(
        self, device: DeviceView, fault: FaultInfo, now: datetime, raised: bool
    ) -> list[Alert]:
        code = fault.code.value if fault.code is not None else None
        rule = self.rule
        if not rule.applies_to(device.id) or (rule.codes and code not in rule.codes):
            return []
        if not raised and not rule.cleared:
            return []
        source = device.probe(fault.source) if fault.source else "device"
        detail = clean(fault.message) or (code or "unknown fault")
        code_text = f" ({code})" if code else ""
        if raised:
            return [
                Alert(
                    self.index,
                    device.id,
                    f"⚠ {device.label}: fault on {source}",
                    f"{source}: {detail}{code_text}.",
                    Severity.PROBLEM,
                    now,
                )
            ]
        return [
            Alert(
                self.index,
                device.id,
                f"✓ {device.label}: {source} fault cleared",
                f"{source}: the fault{code_text} has cleared.",
                Severity.RESOLVED,
                now,
            )
        ]


# -- out of range -------------------------------------------------------------


@dataclass
class _Range:
    since: datetime | None = None  # out of range since (None: in range or unknown)
    fired: bool = False
    value: float | None = None
    band: tuple[float | None, float | None] = (None, None)
    probe: str = ""


class OutOfRangeAlerts:
    """A probe outside its band continuously for ``for_min``; then back inside it."""

    def __init__(self, index: int, rule: OutOfRangeRule) -> None:
        self.index, self.rule = index, rule
        self._for = timedelta(minutes=rule.for_min)
        self._devices: dict[str, _Range] = {}
        self._views: dict[str, DeviceView] = {}

    def _band(self, state: State) -> tuple[float | None, float | None] | None:
        rule = self.rule
        if rule.tolerance_c is None:
            return rule.min_c, rule.max_c
        thermostat = state.thermostat
        if thermostat.target is None or thermostat.mode in (None, ThermostatMode.OFF):
            return None  # no target in force: nothing to be out of
        return thermostat.target - rule.tolerance_c, thermostat.target + rule.tolerance_c

    def on_state(self, device: DeviceView, state: State, now: datetime) -> list[Alert]:
        if not self.rule.applies_to(device.id):
            return []
        self._views[device.id] = device
        track = self._devices.setdefault(device.id, _Range())
        probe_id = self.rule.probe or state.thermostat.probe
        reading = state.probes.get(probe_id) if probe_id else None
        band = self._band(state)
        value = reading.temperature if reading is not None else None
        if value is None or band is None:
            # No reading (a probe fault alerts on its own) or no band: stop counting.
            track.since = None
            return []
        low, high = band
        outside = (low is not None and value < low) or (high is not None and value > high)
        track.value, track.band, track.probe = value, band, probe_id or ""
        if outside:
            if track.since is None:
                track.since = now
            return self._due(device, track, now)
        was_fired, since = track.fired, track.since
        track.since, track.fired = None, False
        if not was_fired:
            return []
        lasted = f" (out of range for {_minutes(now - since)})" if since else ""
        probe = device.probe(probe_id or "")
        return [
            Alert(
                self.index,
                device.id,
                f"✓ {device.label}: {probe} back in range",
                f"{probe} is at {value:.1f} °C, within {_band_text(band)} again{lasted}.",
                Severity.RESOLVED,
                now,
            )
        ]

    def on_device(self, device: str, online: bool, now: datetime) -> list[Alert]:
        if not online and device in self._devices:
            self._devices[device].since = None  # stale readings prove nothing
        return []

    def check(self, now: datetime) -> list[Alert]:
        alerts: list[Alert] = []
        for device, track in self._devices.items():
            view = self._views.get(device)
            if view is not None:
                alerts += self._due(view, track, now)
        return alerts

    def _due(self, device: DeviceView, track: _Range, now: datetime) -> list[Alert]:
        if track.since is None or track.fired or now - track.since < self._for:
            return []
        track.fired = True
        probe = device.probe(track.probe)
        value = track.value if track.value is not None else float("nan")
        return [
            Alert(
                self.index,
                device.id,
                f"⚠ {device.label}: {probe} out of range",
                f"{probe} has been outside {_band_text(track.band)} for "
                f"{_minutes(now - track.since)}; it is at {value:.1f} °C.",
                Severity.PROBLEM,
                now,
            )
        ]


def _band_text(band: tuple[float | None, float | None]) -> str:
    low, high = band
    if low is not None and high is not None:
        return f"{low:.1f}–{high:.1f} °C"
    if low is not None:
        return f"≥ {low:.1f} °C"
    return f"≤ {high:.1f} °C"


# -- offline ------------------------------------------------------------------


@dataclass
class _Offline:
    since: datetime
    fired: bool = False


class OfflineAlerts:
    """No link to a device for ``for_min`` minutes; then its return."""

    def __init__(self, index: int, rule: OfflineRule) -> None:
        self.index, self.rule = index, rule
        self._for = timedelta(minutes=rule.for_min)
        self._offline: dict[str, _Offline] = {}
        self._labels: dict[str, str] = {}

    def on_device(self, device: DeviceView, online: bool, now: datetime) -> list[Alert]:
        if not self.rule.applies_to(device.id):
            return []
        self._labels[device.id] = device.label
        if not online:
            self._offline.setdefault(device.id, _Offline(now))
            return []
        gone = self._offline.pop(device.id, None)
        if gone is None or not gone.fired:
            return []
        return [
            Alert(
                self.index,
                device.id,
                f"✓ {device.label} back online",
                f"{device.label} is linked again after {_minutes(now - gone.since)} away.",
                Severity.RESOLVED,
                now,
            )
        ]

    def forget(self, device: str) -> None:
        """The device turned out to be linked (to another service process)."""
        self._offline.pop(device, None)

    def check(self, now: datetime) -> list[Alert]:
        alerts = []
        for device, gone in self._offline.items():
            if gone.fired or now - gone.since < self._for:
                continue
            gone.fired = True
            label = self._labels.get(device, device)
            alerts.append(
                Alert(
                    self.index,
                    device,
                    f"⚠ {label} offline",
                    f"No link to {label} for {_minutes(now - gone.since)} "
                    f"(since {_stamp(gone.since)}). Its own safety rules keep running on the Pi.",
                    Severity.PROBLEM,
                    now,
                    needs_offline=True,
                )
            )
        return alerts


# -- profile steps ------------------------------------------------------------


def _step_text(step: ProfileStep) -> str:
    hours = f"{step.hours:g} h"
    if step.kind == "ramp":
        return f"ramp to {step.target:.1f} °C over {hours}"
    return f"hold {step.target:.1f} °C for {hours}"


class ProfileStepAlerts:
    """A profile's step done (the next began) and the profile finished."""

    def __init__(self, index: int, rule: ProfileStepRule) -> None:
        self.index, self.rule = index, rule
        self._last: dict[str, ProfileProgress | None] = {}

    def on_state(self, device: DeviceView, state: State, now: datetime) -> list[Alert]:
        if not self.rule.applies_to(device.id):
            return []
        seen = device.id in self._last
        before, after = self._last.get(device.id), state.thermostat.profile
        self._last[device.id] = after
        if not seen or before is None or after is None:
            return []  # a first sight, a profile set or cleared: not a step done
        if (before.name, before.started_at) != (after.name, after.started_at):
            return []
        name = clean(after.name, 60)
        total = len(after.steps)
        alerts = []
        if 0 <= before.step < after.step < total:
            first, last = before.step + 1, after.step  # 1-based numbers of the steps done
            which = f"Step {first} of {total}" if first == last else f"Steps {first}–{last}"
            alerts.append(
                Alert(
                    self.index,
                    device.id,
                    f"{device.label}: profile step done",
                    f"Profile “{name}”: {which} done ({_step_text(after.steps[last - 1])}). "
                    f"Now step {after.step + 1}: {_step_text(after.steps[after.step])}.",
                    Severity.INFO,
                    now,
                )
            )
        if after.finished and not before.finished and total:
            alerts.append(
                Alert(
                    self.index,
                    device.id,
                    f"{device.label}: profile finished",
                    f"Profile “{name}” finished all {total} steps; its last target "
                    f"({after.steps[-1].target:.1f} °C) holds.",
                    Severity.INFO,
                    now,
                )
            )
        return alerts


# -- gravity ------------------------------------------------------------------

# Readings kept per hydrometer, newest last; a Tilt sends one a minute or more often.
_MAX_POINTS = 20_000


class GravityStableAlerts:
    """A hydrometer's gravity steady for the rule's hours: told once, again after it moves.

    Readings come with the daemon's state (its Tilt, or an iSpindel the service
    handed to it). Steady: the readings span the whole window, the newest is in
    its last hour, and the medians of its hours lie within ``within`` (a single
    reading's jitter would never fit a window of raw values).
    """

    def __init__(self, index: int, rule: GravityStableRule) -> None:
        self.index, self.rule = index, rule
        self._points: dict[tuple[str, str], list[tuple[datetime, float]]] = {}
        self._told: set[tuple[str, str]] = set()

    def on_state(self, device: DeviceView, state: State, now: datetime) -> list[Alert]:
        if not self.rule.applies_to(device.id):
            return []
        alerts = []
        for reading in state.hydrometers:
            if self.rule.hydrometers and reading.id not in self.rule.hydrometers:
                continue
            try:
                at = parse_iso(reading.at)
            except ValueError:
                continue
            key = (device.id, reading.id)
            points = self._points.setdefault(key, [])
            if points and at <= points[-1][0]:
                continue  # the same reading in the next state
            points.append((at, reading.sg))
            window = timedelta(hours=self.rule.hours)
            while points and points[0][0] < at - window - timedelta(hours=1):
                points.pop(0)
            del points[:-_MAX_POINTS]
            spread, median = self._spread(points, at, window)
            if spread is None:
                continue
            if spread > 2 * self.rule.within:
                self._told.discard(key)  # it moved clearly: the next steady spell is news
            elif spread <= self.rule.within + 1e-9 and key not in self._told:
                self._told.add(key)
                alerts.append(self._alert(device, reading.id, median, now))
        return alerts

    def _spread(
        self, points: list[tuple[datetime, float]], newest: datetime, window: timedelta
    ) -> tuple[float | None, float]:
        """How far the window's hourly medians lie apart, and their median (None: too few).

        Told again only after the spread went beyond twice ``within``: a gravity
        at the edge of the band must not flap between steady and not.
        """
        if not points or points[0][0] > newest - window:
            return None, 0.0  # not watched for the whole window yet
        spread = slice_spread(points, newest, window)
        return (None, 0.0) if spread is None else spread

    def _alert(self, device: DeviceView, hydrometer: str, sg: float, now: datetime) -> Alert:
        return Alert(
            self.index,
            device.id,
            f"{device.label}: gravity stable",
            f"{clean(hydrometer, 40)} has read {sg:.3f} (within {self.rule.within:g}) for "
            f"{self.rule.hours:g} h: fermentation looks done.",
            Severity.INFO,
            now,
        )
