"""What a device says about itself, checked at the door.

A device that holds only its own token still chooses every string it sends:
its name, its probe and relay ids, fault messages, media ids and types. Those
strings end up in file names, URLs, log lines, CSV files and web pages, so the
recorder passes everything a link delivers through here first. Ids must match
``[A-Za-z0-9_.-]{1,64}`` (an entry that does not is left out, with a warning);
free text is stripped of control characters and cut to a length; lists are
capped; readings must be plausible. The pages still render all of it as
text: this is the second wall.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TypeVar

from beerpi_protocol.const import HYDROMETER_ID
from beerpi_protocol.errors import BeerPiError
from beerpi_protocol.models import (
    DeviceInfo,
    FaultInfo,
    HydrometerReading,
    MediaInfo,
    ProbeInfo,
    ProfileProgress,
    ProfileStep,
    Reading,
    RelayInfo,
    State,
    ThermostatInfo,
    ThermostatState,
)
from beerpi_protocol.numbers import finite
from beerpi_protocol.profiles import KINDS, MAX_STEP_HOURS, MAX_STEPS
from beerpi_protocol.timestamps import parse_iso

ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_NAME = 64
MAX_TEXT = 300
MAX_RELAYS = 16
MAX_FAULTS = 64
MAX_CAPABILITIES = 32
MAX_PROFILE_STEPS = MAX_STEPS  # a BeerPi runs no longer profile
# The longest a profile may still run: every step at the longest a daemon accepts.
MAX_PROFILE_LEFT_S = MAX_STEPS * MAX_STEP_HOURS * 3600.0
# A BeerPi keeps at most 16 hydrometers (pi_daemon/gravity/book.py): more in a
# state is made up, and each one was stored (18,000 from one device in 15 s).
MAX_HYDROMETERS = 16
# A BeerPi probe is a DS18B20, which measures -55..125 °C: a reading outside that
# is no temperature. Anything finite used to pass, and a pair of 1e308 readings
# overflowed the stores' running sums (Infinity in the API, then a rollup the
# database refused, which stopped every later batch of the device).
MIN_READING_C, MAX_READING_C = -55.0, 125.0
# How far a device's times may be from the service's clock. A fast simulation is
# ahead for real (600x gains 1.6 years a day, 20,000x 55), and a Pi without a
# network clock may start in 1970; but the service computes with the device's
# time (now plus its clock's offset, a day or a week around that), and a state
# stamped in year 9999 or 1 overflowed it: 400s on the trend page and the API,
# the disconnect event lost. 1000 years keeps every such sum millennia inside
# the years 1..9999 a datetime holds.
MAX_CLOCK_SKEW = timedelta(days=365_250)
# The media types a BeerPi daemon produces (pi_daemon/media.py), by kind.
MEDIA_TYPES = {
    "photo": frozenset({"image/jpeg"}),
    "video": frozenset({"video/mp4"}),
}
ALL_MEDIA_TYPES = frozenset().union(*MEDIA_TYPES.values())

T = TypeVar("T")


class InvalidDeviceData(BeerPiError, ValueError):
    """A device sent something the service will not store; the message says what."""


def is_id(value: object) -> bool:
    return isinstance(value, str) and ID.fullmatch(value) is not None


def check_id(value: object, what: str) -> str:
    if not is_id(value):
        raise InvalidDeviceData(f"{what} {str(value)[:80]!r} is not an id ({ID.pattern})")
    assert isinstance(value, str)
    return value


# Control and format characters (C*), and the line and paragraph separators (Zl, Zp):
# str.splitlines(), JavaScript and many log viewers break lines at U+2028 and U+2029.
_NOT_TEXT = frozenset({"Zl", "Zp"})


def text(value: str, limit: int = MAX_TEXT) -> str:
    """``value`` with control characters (newlines included) as spaces, at most ``limit`` long."""
    parts: list[str] = []
    for ch in value[: limit * 2]:
        category = unicodedata.category(ch)
        if category[0] != "C" and category not in _NOT_TEXT:
            parts.append(ch)
        elif not parts or parts[-1] != " ":
            parts.append(" ")  # a run of them ("\r\n") is one space
    return "".join(parts).strip()[:limit]


def _ids(values: Iterable[str | None]) -> list[str]:
    return [v for v in values if is_id(v)]  # type: ignore[misc]


def _opt_id(value: str | None) -> str | None:
    return value if is_id(value) else None


def _first(items: Iterable[T], count: int) -> tuple[T, ...]:
    result: list[T] = []
    for item in items:
        if len(result) >= count:
            break
        result.append(item)
    return tuple(result)


def device_info(info: DeviceInfo, *, max_probes: int) -> DeviceInfo:
    """The announcement with a valid id (InvalidDeviceData if not) and bounded strings."""
    device = check_id(info.id, "device id")
    probes = _first(
        (
            ProbeInfo(id=p.id, name=text(p.name, MAX_NAME) or p.id)
            for p in info.probes
            if is_id(p.id)
        ),
        max_probes,
    )
    relays = _first(
        (
            RelayInfo(id=r.id, name=text(r.name, MAX_NAME) or r.id)
            for r in info.relays
            if is_id(r.id)
        ),
        MAX_RELAYS,
    )
    t = info.thermostat
    return dataclasses.replace(
        info,
        id=device,
        name=text(info.name, MAX_NAME) or device,
        manufacturer=text(info.manufacturer, MAX_NAME),
        model=text(info.model, MAX_NAME),
        sw_version=text(info.sw_version, MAX_NAME),
        protocol_version=text(info.protocol_version, 16),
        # Linux's boot id is a UUID: anything else is no boot id (it goes into every
        # connected event and the API, and was taken as sent, 60,000 characters too).
        boot_id=_opt_id(info.boot_id),
        probes=probes,
        relays=relays,
        thermostat=ThermostatInfo(
            probe=_opt_id(t.probe),
            heater=_opt_id(t.heater),
            cooler=_opt_id(t.cooler),
            min_target=t.min_target,
            max_target=t.max_target,
        ),
        capabilities=_first(_ids(info.capabilities), MAX_CAPABILITIES),
    )


def probe_reads(celsius: float) -> bool:
    """A temperature a DS18B20 can read (NaN is none)."""
    return MIN_READING_C <= celsius <= MAX_READING_C


def reading(value: Reading) -> Reading:
    """``value`` if its temperature is one a probe can read; InvalidDeviceData if not."""
    if not probe_reads(value.temperature):
        raise InvalidDeviceData(
            f"probe {value.probe[:80]!r} read {value.temperature!r} °C, outside the "
            f"{MIN_READING_C:g}..{MAX_READING_C:g} °C a DS18B20 measures"
        )
    return value


def near(at: datetime, now: datetime, what: str) -> datetime:
    """``at`` if within MAX_CLOCK_SKEW of ``now``; InvalidDeviceData if not."""
    if abs(at - now) > MAX_CLOCK_SKEW:
        raise InvalidDeviceData(
            f"{what} is stamped {at.isoformat()}, more than {MAX_CLOCK_SKEW.days // 365} "
            "years from the service's clock"
        )
    return at


def stamp(value: str | None, now: datetime) -> datetime | None:
    """The time ``value`` says, if it is one within MAX_CLOCK_SKEW of ``now``; else None."""
    if not value:
        return None
    try:
        return near(parse_iso(value, naive_as_utc=True), now, "it")
    except ValueError:  # InvalidDeviceData is one
        return None


def fault(info: FaultInfo) -> FaultInfo:
    source = info.source if is_id(info.source) else ""
    since = text(info.since, MAX_NAME) if info.since is not None else None
    return dataclasses.replace(info, source=source, message=text(info.message), since=since)


def media(info: MediaInfo) -> MediaInfo:
    """A photo/video announcement: a valid id and one of the types BeerPi produces."""
    media_id = check_id(info.id, "media id")
    types = MEDIA_TYPES.get(info.kind)
    if types is None:
        raise InvalidDeviceData(f"media kind {info.kind[:20]!r} is neither photo nor video")
    if info.content_type not in types:
        expected = ", ".join(sorted(types))
        raise InvalidDeviceData(
            f"a {info.kind} of type {info.content_type[:60]!r} (expected {expected})"
        )
    size = info.size if 0 <= info.size <= 2**40 else 0
    stamp = text(info.timestamp, MAX_NAME) if info.timestamp is not None else None
    return dataclasses.replace(
        info, id=media_id, url=text(info.url, 200), size=size, timestamp=stamp
    )


def _mapping(items: Mapping[str, T], count: int) -> dict[str, T]:
    return dict(_first(((k, v) for k, v in items.items() if is_id(k)), count))


def _hydrometer(reading: HydrometerReading, now: datetime) -> bool:
    """A valid hydrometer id, read at a time near ``now``."""
    return HYDROMETER_ID.fullmatch(reading.id) is not None and stamp(reading.at, now) is not None


def _step_ok(step: ProfileStep) -> bool:
    """A step a BeerPi could run: a hold or a ramp to a temperature a probe reads,
    for a time a daemon accepts (a gravity end's own numbers are only shown)."""
    hours = finite(step.hours)
    return (
        step.kind in KINDS
        and probe_reads(step.target)
        and hours is not None
        and 0 <= hours <= MAX_STEP_HOURS
    )


def _left_s(value: float, limit: float) -> float:
    """A time left: within 0..limit (a device saying 1e308 s or -1 s means nothing)."""
    return min(limit, max(0.0, value)) if finite(value) is not None else 0.0


def _profile(profile: ProfileProgress, now: datetime) -> ProfileProgress | None:
    """The profile as the pages may draw it: None if a step is none a BeerPi runs; the
    step index within the steps, times left within a profile's longest, and each time
    one ``near`` ``now`` (or None). A device saying otherwise drew a plan from year 1 to
    9999 on the trend page."""
    steps = profile.steps
    if not steps or len(steps) > MAX_PROFILE_STEPS or not all(_step_ok(s) for s in steps):
        return None

    def time(value: str | None) -> str | None:
        return None if stamp(value, now) is None else text(value or "", MAX_NAME)

    step_limit = MAX_STEP_HOURS * 3600.0
    return ProfileProgress(
        name=text(profile.name, MAX_NAME),
        steps=steps,
        step=min(len(steps) - 1, max(0, profile.step)),
        step_time_left_s=_left_s(profile.step_time_left_s, step_limit),
        total_time_left_s=_left_s(profile.total_time_left_s, MAX_PROFILE_LEFT_S),
        started_at=time(profile.started_at),
        finished=profile.finished,
        paused=profile.paused,
        paused_at=time(profile.paused_at),
        step_ends_at=time(profile.step_ends_at),
        ends_at=time(profile.ends_at),
    )


def state(snapshot: State, *, max_probes: int, now: datetime) -> State:
    """Bounded strings and lists; a timestamp that is no time ``near`` ``now`` left out."""
    thermostat = snapshot.thermostat
    target = thermostat.target
    if target is not None and not probe_reads(target):
        target = None
    latest = None
    if snapshot.latest_photo is not None:
        try:
            latest = media(snapshot.latest_photo)
        except InvalidDeviceData:
            latest = None
    return dataclasses.replace(
        snapshot,
        timestamp=None
        if stamp(snapshot.timestamp, now) is None
        else text(snapshot.timestamp or "", MAX_NAME),
        probes=_mapping(snapshot.probes, max_probes),
        relays=_mapping(snapshot.relays, MAX_RELAYS),
        thermostat=ThermostatState(
            mode=thermostat.mode,
            target=target,
            action=thermostat.action,
            probe=_opt_id(thermostat.probe),
            reason=text(thermostat.reason),
            profile=None if thermostat.profile is None else _profile(thermostat.profile, now),
        ),
        faults=tuple(fault(f) for f in snapshot.faults[:MAX_FAULTS]),
        latest_photo=latest,
        hydrometers=_first(
            (h for h in snapshot.hydrometers if _hydrometer(h, now)), MAX_HYDROMETERS
        ),
    )
