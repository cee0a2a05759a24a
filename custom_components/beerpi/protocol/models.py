"""Payloads of protocol v1 as frozen dataclasses.

Readers are lenient so that old clients survive newer daemons: unknown keys are
skipped, missing keys take defaults, unknown enum values read as None. Writers
(``to_dict``) emit every field. Temperatures are degrees Celsius, times are
ISO 8601 strings in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from .const import SG_RANGE, FaultCode, ThermostatAction, ThermostatMode
from .numbers import finite
from .timestamps import parse_iso

JsonDict = dict[str, Any]


def _str(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key, default)
    return value if isinstance(value, str) else default


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _opt_float(data: Mapping[str, Any], key: str) -> float | None:
    return finite(data.get(key))


def _float(data: Mapping[str, Any], key: str, default: float) -> float:
    value = _opt_float(data, key)
    return default if value is None else value


def _bool(data: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = data.get(key, default)
    return value if isinstance(value, bool) else default


def _int(data: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = data.get(key, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeInfo:
    id: str
    name: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        probe_id = _str(data, "id")
        return cls(id=probe_id, name=_str(data, "name", probe_id))

    def to_dict(self) -> JsonDict:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayInfo:
    id: str
    name: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        relay_id = _str(data, "id")
        return cls(id=relay_id, name=_str(data, "name", relay_id))

    def to_dict(self) -> JsonDict:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True, slots=True, kw_only=True)
class ThermostatInfo:
    """The static side of the thermostat: what it controls and its limits."""

    probe: str | None = None
    heater: str | None = None
    cooler: str | None = None
    min_target: float = -5.0
    max_target: float = 40.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            probe=_opt_str(data, "probe"),
            heater=_opt_str(data, "heater"),
            cooler=_opt_str(data, "cooler"),
            min_target=_float(data, "min_target", -5.0),
            max_target=_float(data, "max_target", 40.0),
        )

    def to_dict(self) -> JsonDict:
        return {
            "probe": self.probe,
            "heater": self.heater,
            "cooler": self.cooler,
            "min_target": self.min_target,
            "max_target": self.max_target,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceInfo:
    """Sent once per connection, before the first ``state``."""

    id: str
    name: str = "BeerPi"
    manufacturer: str = "BeerPi"
    model: str = ""
    sw_version: str = ""
    protocol_version: str = ""
    simulated: bool = False
    probes: tuple[ProbeInfo, ...] = ()
    relays: tuple[RelayInfo, ...] = ()
    camera: bool = False
    thermostat: ThermostatInfo = field(default_factory=ThermostatInfo)
    capabilities: tuple[str, ...] = ()
    # The machine's boot id (Linux's /proc/sys/kernel/random/boot_id): it changes
    # at every boot, so a history service can tell a power cut or reboot from a
    # daemon restart. None when unknown (older daemons, other systems).
    boot_id: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            id=_str(data, "id"),
            name=_str(data, "name", "BeerPi"),
            manufacturer=_str(data, "manufacturer", "BeerPi"),
            model=_str(data, "model"),
            sw_version=_str(data, "sw_version"),
            protocol_version=_str(data, "protocol_version"),
            simulated=_bool(data, "simulated"),
            probes=tuple(
                ProbeInfo.from_dict(p) for p in _list(data, "probes") if isinstance(p, Mapping)
            ),
            relays=tuple(
                RelayInfo.from_dict(r) for r in _list(data, "relays") if isinstance(r, Mapping)
            ),
            camera=_bool(data, "camera"),
            thermostat=ThermostatInfo.from_dict(_mapping(data, "thermostat")),
            capabilities=tuple(c for c in _list(data, "capabilities") if isinstance(c, str)),
            boot_id=_opt_str(data, "boot_id"),
        )

    def to_dict(self) -> JsonDict:
        return {
            "id": self.id,
            "name": self.name,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "sw_version": self.sw_version,
            "protocol_version": self.protocol_version,
            "simulated": self.simulated,
            "probes": [p.to_dict() for p in self.probes],
            "relays": [r.to_dict() for r in self.relays],
            "camera": self.camera,
            "thermostat": self.thermostat.to_dict(),
            "capabilities": list(self.capabilities),
            "boot_id": self.boot_id,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeState:
    """Latest reading of one probe; ``temperature`` is None while in fault."""

    temperature: float | None = None
    timestamp: str | None = None
    fault: FaultCode | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            temperature=_opt_float(data, "temperature"),
            timestamp=_opt_str(data, "timestamp"),
            fault=FaultCode.parse(data.get("fault")),
        )

    def to_dict(self) -> JsonDict:
        return {
            "temperature": self.temperature,
            "timestamp": self.timestamp,
            "fault": None if self.fault is None else self.fault.value,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayState:
    on: bool = False
    # "thermostat" while the thermostat drives this relay, else None (manual).
    controlled_by: str | None = None
    # Seconds of the minimum off/on time still to run before it may switch.
    locked_for_s: float = 0.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            on=_bool(data, "on"),
            controlled_by=_opt_str(data, "controlled_by"),
            locked_for_s=_float(data, "locked_for_s", 0.0),
        )

    def to_dict(self) -> JsonDict:
        return {
            "on": self.on,
            "controlled_by": self.controlled_by,
            "locked_for_s": self.locked_for_s,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileStep:
    """One step of a fermentation profile: hold a temperature, or ramp to it.

    A hold may also end on gravity (protocol 2.1): when the hydrometer reads
    ``until_sg`` or less, or when its gravity has stayed within ``stable_within``
    for ``stable_hours``; ``hours`` is then the longest it runs (the fallback
    when no gravity arrives). ``hydrometer`` names the one to watch (None: the
    one that reported last).
    """

    kind: str  # "hold" | "ramp"
    target: float
    hours: float
    until_sg: float | None = None
    stable_within: float | None = None
    stable_hours: float | None = None
    hydrometer: str | None = None

    @property
    def ends_on_gravity(self) -> bool:
        return self.until_sg is not None or self.stable_within is not None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            kind=_str(data, "kind", "hold"),
            target=_float(data, "target", 0.0),
            hours=_float(data, "hours", 0.0),
            until_sg=_opt_float(data, "until_sg"),
            stable_within=_opt_float(data, "stable_within"),
            stable_hours=_opt_float(data, "stable_hours"),
            hydrometer=_opt_str(data, "hydrometer"),
        )

    def to_dict(self) -> JsonDict:
        payload: JsonDict = {"kind": self.kind, "target": self.target, "hours": self.hours}
        # Gravity fields only when set: a plain step reads the same as in protocol 2.0.
        for key in ("until_sg", "stable_within", "stable_hours", "hydrometer"):
            value = getattr(self, key)
            if value is not None:
                payload[key] = value
        return payload


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileProgress:
    name: str = ""
    steps: tuple[ProfileStep, ...] = ()
    step: int = 0
    step_time_left_s: float = 0.0
    total_time_left_s: float = 0.0
    started_at: str | None = None
    finished: bool = False
    # 2.2: a paused profile holds its target; its times left stand still until resumed.
    paused: bool = False
    paused_at: str | None = None
    # 2.2: when the running step and the whole profile end on the daemon's clock (a step
    # that may end on gravity: at the latest); null while paused or finished.
    step_ends_at: str | None = None
    ends_at: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            name=_str(data, "name"),
            steps=tuple(
                ProfileStep.from_dict(s) for s in _list(data, "steps") if isinstance(s, Mapping)
            ),
            step=_int(data, "step"),
            step_time_left_s=_float(data, "step_time_left_s", 0.0),
            total_time_left_s=_float(data, "total_time_left_s", 0.0),
            started_at=_opt_str(data, "started_at"),
            finished=_bool(data, "finished"),
            paused=_bool(data, "paused"),
            paused_at=_opt_str(data, "paused_at"),
            step_ends_at=_opt_str(data, "step_ends_at"),
            ends_at=_opt_str(data, "ends_at"),
        )

    def to_dict(self) -> JsonDict:
        return {
            "name": self.name,
            "steps": [s.to_dict() for s in self.steps],
            "step": self.step,
            "step_time_left_s": self.step_time_left_s,
            "total_time_left_s": self.total_time_left_s,
            "started_at": self.started_at,
            "finished": self.finished,
            "paused": self.paused,
            "paused_at": self.paused_at,
            "step_ends_at": self.step_ends_at,
            "ends_at": self.ends_at,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ThermostatState:
    mode: ThermostatMode | None = ThermostatMode.OFF
    # The target in force (a running profile sets it).
    target: float | None = None
    action: ThermostatAction | None = ThermostatAction.OFF
    probe: str | None = None
    # Human-readable why of the action, e.g. "cooler resting 3 min (minimum off time)".
    reason: str = ""
    profile: ProfileProgress | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        profile = data.get("profile")
        return cls(
            mode=ThermostatMode.parse(data.get("mode")),
            target=_opt_float(data, "target"),
            action=ThermostatAction.parse(data.get("action")),
            probe=_opt_str(data, "probe"),
            reason=_str(data, "reason"),
            profile=ProfileProgress.from_dict(profile) if isinstance(profile, Mapping) else None,
        )

    def to_dict(self) -> JsonDict:
        return {
            "mode": None if self.mode is None else self.mode.value,
            "target": self.target,
            "action": None if self.action is None else self.action.value,
            "probe": self.probe,
            "reason": self.reason,
            "profile": None if self.profile is None else self.profile.to_dict(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultInfo:
    """An active fault (in ``state.faults``) or a raise/clear (the ``fault`` event)."""

    source: str  # a probe id, a relay id, "thermostat", "storage" or "camera"
    code: FaultCode | None
    message: str = ""
    since: str | None = None
    active: bool = True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            source=_str(data, "source"),
            code=FaultCode.parse(data.get("code")),
            message=_str(data, "message"),
            since=_opt_str(data, "since"),
            active=_bool(data, "active", True),
        )

    def to_dict(self) -> JsonDict:
        return {
            "source": self.source,
            "code": None if self.code is None else self.code.value,
            "message": self.message,
            "since": self.since,
            "active": self.active,
        }


def _in_range(value: float | None, low: float, high: float) -> float | None:
    return value if value is not None and low <= value <= high else None


@dataclass(frozen=True, slots=True, kw_only=True)
class HydrometerReading:
    """The latest reading of one hydrometer (a Tilt, an iSpindel): protocol 2.1.

    ``sg`` is specific gravity (1.050), ``temperature_c`` the hydrometer's own
    thermometer, ``battery`` volts (iSpindel) or weeks since the battery was
    changed (Tilt Pro), ``angle`` the iSpindel's tilt in degrees; each of those
    three may be null. ``at`` is when the reading was taken.
    """

    id: str
    sg: float
    at: str
    temperature_c: float | None = None
    battery: float | None = None
    angle: float | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self | None:
        """A reading, or None for one that is not (no id, a gravity out of range, no time).

        Stricter than the other readers: a reading that ends a profile step must
        be one, so a bad entry is dropped rather than defaulted.
        """
        reading_id = _opt_str(data, "id")
        sg = _in_range(_opt_float(data, "sg"), *SG_RANGE)
        at = _opt_str(data, "at")
        if not reading_id or sg is None or at is None:
            return None
        try:
            parse_iso(at)
        except ValueError:
            return None
        return cls(
            id=reading_id,
            sg=sg,
            at=at,
            temperature_c=_in_range(_opt_float(data, "temperature_c"), -20.0, 110.0),
            battery=_in_range(_opt_float(data, "battery"), 0.0, 1000.0),
            angle=_in_range(_opt_float(data, "angle"), -180.0, 180.0),
        )

    def to_dict(self) -> JsonDict:
        return {
            "id": self.id,
            "sg": self.sg,
            "temperature_c": self.temperature_c,
            "battery": self.battery,
            "angle": self.angle,
            "at": self.at,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    """Full snapshot; every ``state`` push carries all of it."""

    timestamp: str | None = None
    probes: Mapping[str, ProbeState] = field(default_factory=dict)
    relays: Mapping[str, RelayState] = field(default_factory=dict)
    thermostat: ThermostatState = field(default_factory=ThermostatState)
    faults: tuple[FaultInfo, ...] = ()
    latest_photo: MediaInfo | None = None
    # Protocol 2.1: one entry per hydrometer that has reported (older daemons: none).
    hydrometers: tuple[HydrometerReading, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        photo = data.get("latest_photo")
        hydrometers = (
            HydrometerReading.parse(h) for h in _list(data, "hydrometers") if isinstance(h, Mapping)
        )
        return cls(
            timestamp=_opt_str(data, "timestamp"),
            probes={
                str(k): ProbeState.from_dict(v)
                for k, v in _mapping(data, "probes").items()
                if isinstance(v, Mapping)
            },
            relays={
                str(k): RelayState.from_dict(v)
                for k, v in _mapping(data, "relays").items()
                if isinstance(v, Mapping)
            },
            thermostat=ThermostatState.from_dict(_mapping(data, "thermostat")),
            faults=tuple(
                FaultInfo.from_dict(f) for f in _list(data, "faults") if isinstance(f, Mapping)
            ),
            latest_photo=MediaInfo.from_dict(photo) if isinstance(photo, Mapping) else None,
            hydrometers=tuple(h for h in hydrometers if h is not None),
        )

    def to_dict(self) -> JsonDict:
        return {
            "timestamp": self.timestamp,
            "probes": {k: v.to_dict() for k, v in self.probes.items()},
            "relays": {k: v.to_dict() for k, v in self.relays.items()},
            "thermostat": self.thermostat.to_dict(),
            "faults": [f.to_dict() for f in self.faults],
            "latest_photo": None if self.latest_photo is None else self.latest_photo.to_dict(),
            "hydrometers": [h.to_dict() for h in self.hydrometers],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaInfo:
    """A photo or video on the daemon; ``url`` is a path on the daemon's HTTP port."""

    id: str
    kind: str = "photo"  # "photo" | "video"
    url: str = ""
    timestamp: str | None = None
    content_type: str = "image/jpeg"
    size: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            id=_str(data, "id"),
            kind=_str(data, "kind", "photo"),
            url=_str(data, "url"),
            timestamp=_opt_str(data, "timestamp"),
            content_type=_str(data, "content_type", "image/jpeg"),
            size=_int(data, "size"),
        )

    def to_dict(self) -> JsonDict:
        return {
            "id": self.id,
            "kind": self.kind,
            "url": self.url,
            "timestamp": self.timestamp,
            "content_type": self.content_type,
            "size": self.size,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """One recorded sample from the daemon's outbox (the seed's document)."""

    seq: int
    probe: str
    timestamp: str
    temperature: float

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            seq=_int(data, "seq"),
            probe=_str(data, "probe"),
            timestamp=_str(data, "timestamp"),
            temperature=_float(data, "temperature", 0.0),
        )

    def to_dict(self) -> JsonDict:
        return {
            "seq": self.seq,
            "probe": self.probe,
            "timestamp": self.timestamp,
            "temperature": self.temperature,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingsPage:
    readings: tuple[Reading, ...] = ()
    cursor: str | None = None
    # True when more readings wait after this page.
    more: bool = False
    # True when readings after the asked cursor were pruned from the outbox.
    gap: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            readings=tuple(
                Reading.from_dict(r) for r in _list(data, "readings") if isinstance(r, Mapping)
            ),
            cursor=_opt_str(data, "cursor"),
            more=_bool(data, "more"),
            gap=_bool(data, "gap"),
        )

    def to_dict(self) -> JsonDict:
        return {
            "readings": [r.to_dict() for r in self.readings],
            "cursor": self.cursor,
            "more": self.more,
            "gap": self.gap,
        }
