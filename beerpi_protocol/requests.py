"""Requests of protocol v2 and their answers, as frozen dataclasses.

Both ends import these: the client builds a request (``to_dict`` is what goes on
the wire), the daemon reads one with ``from_dict`` and the web service maps its
HTTP bodies onto them. Unlike the state models, requests are read strictly,
because they change things: ``"on": "yes"`` is not a bool, NaN is not a number,
a missing field is not a default. Building or reading a bad request raises
``InvalidArgument`` (the ``invalid_argument`` error) naming the field; unknown
keys are ignored so newer clients can talk to older daemons.

Answers come from the daemon and are read leniently, like the state models.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Final, Protocol, Self

from .const import (
    HYDROMETER_ID,
    MEDIA_CHUNK_BYTES,
    SG_RANGE,
    ErrorCode,
    Request,
    ThermostatMode,
)
from .errors import BeerPiRequestError, InvalidArgument
from .models import JsonDict, MediaInfo, State, ThermostatState, _bool, _float, _int, _str
from .numbers import finite, has_control
from .profiles import MAX_STEPS as MAX_PROFILE_STEPS
from .timestamps import parse_iso

# Longest relay, probe or media id a request may name.
MAX_NAME: Final = 64
MAX_CURSOR: Final = 32
MAX_VIDEO_S: Final = 600.0
MAX_READINGS_PAGE: Final = 5000
DEFAULT_READINGS_PAGE: Final = 500
# Most steps a profile may have (the daemon checks the steps themselves).
# Faults a simulated probe can be told to show.
SIMULATED_FAULTS: Final = ("disconnected", "crc", "reset_85", "stuck")
AMBIENT_RANGE_C: Final = (-30.0, 60.0)
# What a reported hydrometer reading may carry besides its gravity.
HYDROMETER_TEMPERATURE_C: Final = (-20.0, 110.0)
HYDROMETER_BATTERY: Final = (0.0, 1000.0)
HYDROMETER_ANGLE: Final = (-180.0, 180.0)
_MODES: Final = ", ".join(m.value for m in ThermostatMode)


def _kind(value: object) -> str:
    """How a wrong value is named in a message (its JSON type, never its text)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _required(data: Mapping[str, Any], key: str) -> Any:
    """The value under ``key`` unchecked (the model's own checks come next)."""
    if key not in data:
        raise InvalidArgument(f"{key} is required")
    return data[key]


def check_name(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{key} must be a string, got {_kind(value)}")
    if not 1 <= len(value) <= MAX_NAME:
        raise InvalidArgument(f"{key} must be 1 to {MAX_NAME} characters long")
    if has_control(value):
        raise InvalidArgument(f"{key} must not hold control characters")
    return value


def check_bool(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{key} must be true or false, got {_kind(value)}")
    return value


def check_number(
    key: str, value: object, *, low: float | None = None, high: float | None = None
) -> float:
    """A finite number (an int is one; a bool is not), in ``[low, high]`` when both are given."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgument(f"{key} must be a number, got {_kind(value)}")
    if finite(value) is None:
        raise InvalidArgument(f"{key} must be a finite number")
    if low is not None and high is not None and not low <= value <= high:
        raise InvalidArgument(f"{key} must be between {low:g} and {high:g}, got {value:g}")
    return value


def check_int(key: str, value: object, *, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{key} must be a whole number, got {_kind(value)}")
    # A JSON integer has no size limit: an answer names at most the first digits of one.
    shown = str(value) if abs(value) < 10**15 else f"{str(value)[:16]}..."
    if value < low:
        raise InvalidArgument(f"{key} must be at least {low}, got {shown}")
    if high is not None and value > high:
        raise InvalidArgument(f"{key} must be at most {high}, got {shown}")
    return value


def _optional(value: object, check: Any, key: str) -> Any:
    return None if value is None else check(key, value)


def read_mode(value: object, *, optional: bool = True) -> ThermostatMode | None:
    """A thermostat mode from its name (None stays None if ``optional``), else InvalidArgument."""
    if value is None and optional:
        return None
    mode = ThermostatMode.parse(value)
    if mode is None:
        raise InvalidArgument(f"mode must be one of {_MODES}")
    return mode


class RequestModel(Protocol):
    """What every request class has: its name and its wire form."""

    NAME: ClassVar[Request]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Reads a payload strictly; InvalidArgument names the first bad field."""
        ...

    def to_dict(self) -> JsonDict: ...


# -- requests -----------------------------------------------------------------


class _NoPayload:
    """A request that carries nothing: an empty payload, whatever is sent with it."""

    __slots__ = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls()

    def to_dict(self) -> JsonDict:
        return {}


@dataclass(frozen=True, slots=True, kw_only=True)
class GetState(_NoPayload):
    NAME: ClassVar[Request] = Request.GET_STATE


@dataclass(frozen=True, slots=True, kw_only=True)
class TakePhoto(_NoPayload):
    NAME: ClassVar[Request] = Request.TAKE_PHOTO


@dataclass(frozen=True, slots=True, kw_only=True)
class SetRelay:
    NAME: ClassVar[Request] = Request.SET_RELAY

    relay: str
    on: bool

    def __post_init__(self) -> None:
        check_name("relay", self.relay)
        check_bool("on", self.on)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(relay=_required(data, "relay"), on=_required(data, "on"))

    def to_dict(self) -> JsonDict:
        return {"relay": self.relay, "on": self.on}


@dataclass(frozen=True, slots=True, kw_only=True)
class SetThermostat:
    """Any of mode, target and profile; ``clear_profile`` sends ``"profile": null``.

    The daemon checks what depends on it (the target's range, the relays a mode
    needs, the profile's steps); this checks the shape.
    """

    NAME: ClassVar[Request] = Request.SET_THERMOSTAT

    mode: ThermostatMode | None = None
    target: float | None = None
    profile: Mapping[str, Any] | None = None
    clear_profile: bool = False

    def __post_init__(self) -> None:
        # A plain string from the wire becomes the enum.
        object.__setattr__(self, "mode", read_mode(self.mode))
        _optional(self.target, check_number, "target")
        profile: object = self.profile
        if profile is not None and not isinstance(profile, Mapping):
            raise InvalidArgument(
                f"profile must be an object (null clears it), got {_kind(profile)}"
            )
        if profile is not None and self.clear_profile:
            raise InvalidArgument("give a profile or clear it, not both")
        if self.mode is None and self.target is None and profile is None and not self.clear_profile:
            raise InvalidArgument("give at least one of mode, target, profile")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        profile = data.get("profile")
        return cls(
            mode=read_mode(data.get("mode")),
            target=data.get("target"),
            profile=profile,
            clear_profile="profile" in data and profile is None,
        )

    def to_dict(self) -> JsonDict:
        payload: JsonDict = {}
        if self.mode is not None:
            payload["mode"] = self.mode.value
        if self.target is not None:
            payload["target"] = self.target
        if self.profile is not None:
            payload["profile"] = dict(self.profile)
        elif self.clear_profile:
            payload["profile"] = None
        return payload

    @property
    def sets_profile(self) -> bool:
        """Whether the profile changes (set, or cleared)."""
        return self.profile is not None or self.clear_profile


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordVideo:
    NAME: ClassVar[Request] = Request.RECORD_VIDEO

    seconds: float

    def __post_init__(self) -> None:
        seconds = check_number("seconds", self.seconds)
        if not 0 < seconds <= MAX_VIDEO_S:
            raise InvalidArgument(
                f"seconds must be more than 0 and at most {MAX_VIDEO_S:g}, got {seconds:g}"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(seconds=_required(data, "seconds"))

    def to_dict(self) -> JsonDict:
        return {"seconds": self.seconds}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingsSince:
    NAME: ClassVar[Request] = Request.READINGS_SINCE

    # None: from the oldest reading the outbox still holds.
    cursor: str | None = None
    limit: int = DEFAULT_READINGS_PAGE

    def __post_init__(self) -> None:
        cursor: object = self.cursor
        if cursor is not None:
            if not isinstance(cursor, str):
                raise InvalidArgument(f"cursor must be a string or null, got {_kind(cursor)}")
            if len(cursor) > MAX_CURSOR:
                raise InvalidArgument(f"cursor must be at most {MAX_CURSOR} characters long")
        check_int("limit", self.limit, low=1, high=MAX_READINGS_PAGE)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(cursor=data.get("cursor"), limit=data.get("limit", DEFAULT_READINGS_PAGE))

    def to_dict(self) -> JsonDict:
        return {"cursor": self.cursor, "limit": self.limit}


@dataclass(frozen=True, slots=True, kw_only=True)
class GetMedia:
    """One chunk of a photo or video, read over the socket.io link itself."""

    NAME: ClassVar[Request] = Request.GET_MEDIA

    id: str
    offset: int = 0
    length: int = MEDIA_CHUNK_BYTES

    def __post_init__(self) -> None:
        check_name("id", self.id)
        check_int("offset", self.offset, low=0)
        check_int("length", self.length, low=1, high=MEDIA_CHUNK_BYTES)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            id=_required(data, "id"),
            offset=data.get("offset", 0),
            length=data.get("length", MEDIA_CHUNK_BYTES),
        )

    def to_dict(self) -> JsonDict:
        return {"id": self.id, "offset": self.offset, "length": self.length}


@dataclass(frozen=True, slots=True, kw_only=True)
class Simulate:
    """A simulated daemon only: a probe fault, the room's temperature, or a broken relay."""

    NAME: ClassVar[Request] = Request.SIMULATE

    probe: str | None = None
    fault: str | None = None
    clear: bool | None = None
    ambient: float | None = None
    # A relay that clicks but delivers no power (broken=True), or repaired (False).
    relay: str | None = None
    broken: bool | None = None

    def __post_init__(self) -> None:
        _optional(self.probe, check_name, "probe")
        fault: object = self.fault
        if fault is not None and fault not in SIMULATED_FAULTS:
            raise InvalidArgument(f"fault must be one of {', '.join(SIMULATED_FAULTS)}")
        _optional(self.clear, check_bool, "clear")
        low, high = AMBIENT_RANGE_C
        if self.ambient is not None:
            check_number("ambient", self.ambient, low=low, high=high)
        _optional(self.relay, check_name, "relay")
        _optional(self.broken, check_bool, "broken")
        if self.relay is not None or self.broken is not None:
            if self.relay is None or self.broken is None:
                raise InvalidArgument("give relay and broken together")
            if self.probe is not None or self.ambient is not None:
                raise InvalidArgument("break a relay in a request of its own")
        elif self.probe is not None:
            if not self.clear and self.fault is None:
                raise InvalidArgument("give fault or clear with probe")
        elif self.ambient is None:
            raise InvalidArgument("give probe (with fault/clear), ambient, or relay (with broken)")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(**{key: data.get(key) for key in _SIMULATE_FIELDS})

    def to_dict(self) -> JsonDict:
        return {
            key: getattr(self, key) for key in _SIMULATE_FIELDS if getattr(self, key) is not None
        }


_SIMULATE_FIELDS: Final = ("probe", "fault", "clear", "ambient", "relay", "broken")


@dataclass(frozen=True, slots=True, kw_only=True)
class SignUrl:
    """A short-lived signed URL for ``path`` on the daemon's HTTP port."""

    NAME: ClassVar[Request] = Request.SIGN_URL

    path: str

    def __post_init__(self) -> None:
        path: object = self.path
        if not isinstance(path, str):
            raise InvalidArgument(f"path must be a string, got {_kind(path)}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(path=_required(data, "path"))

    def to_dict(self) -> JsonDict:
        return {"path": self.path}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportGravity:
    """A gravity reading taken elsewhere (an iSpindel posting to the web service, a
    hydrometer Home Assistant knows), handed to the daemon so its profile steps
    can end on gravity. ``at`` is when the hydrometer took it (ISO 8601 with an
    offset); the daemon refuses one that is too old or in its future.
    """

    NAME: ClassVar[Request] = Request.REPORT_GRAVITY

    hydrometer: str
    sg: float
    at: str
    temperature_c: float | None = None
    battery: float | None = None
    angle: float | None = None

    def __post_init__(self) -> None:
        check_name("hydrometer", self.hydrometer)
        if not HYDROMETER_ID.fullmatch(self.hydrometer):
            raise InvalidArgument(
                "hydrometer must be letters, digits and _ . : - only (no spaces), "
                f"such as tilt-red; got {self.hydrometer!r}"
            )
        check_number("sg", self.sg, low=SG_RANGE[0], high=SG_RANGE[1])
        at: object = self.at
        if not isinstance(at, str):
            raise InvalidArgument(f"at must be a time (ISO 8601 text), got {_kind(at)}")
        try:
            parse_iso(at)
        except ValueError:
            raise InvalidArgument("at must be an ISO 8601 time with an offset (or Z)") from None
        for key, (low, high) in (
            ("temperature_c", HYDROMETER_TEMPERATURE_C),
            ("battery", HYDROMETER_BATTERY),
            ("angle", HYDROMETER_ANGLE),
        ):
            value = getattr(self, key)
            if value is not None:
                check_number(key, value, low=low, high=high)

    @property
    def taken_at(self) -> datetime:
        return parse_iso(self.at)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            hydrometer=_required(data, "hydrometer"),
            sg=_required(data, "sg"),
            at=_required(data, "at"),
            temperature_c=data.get("temperature_c"),
            battery=data.get("battery"),
            angle=data.get("angle"),
        )

    def to_dict(self) -> JsonDict:
        payload: JsonDict = {"hydrometer": self.hydrometer, "sg": self.sg, "at": self.at}
        for key in ("temperature_c", "battery", "angle"):
            if getattr(self, key) is not None:
                payload[key] = getattr(self, key)
        return payload


@dataclass(frozen=True, slots=True, kw_only=True)
class PauseProfile(_NoPayload):
    """Hold the running profile where it is (2.2): its target stays, its clock stops."""

    NAME: ClassVar[Request] = Request.PAUSE_PROFILE


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumeProfile(_NoPayload):
    """Let a paused profile go on from where it stopped (2.2)."""

    NAME: ClassVar[Request] = Request.RESUME_PROFILE


@dataclass(frozen=True, slots=True, kw_only=True)
class SkipStep:
    """End the running step now and start the next (2.2).

    ``step`` (0-based), when given, is the step the sender means to skip: if
    another runs by then, the daemon refuses, so a double click or two people
    skipping at once end one step, not two.
    """

    NAME: ClassVar[Request] = Request.SKIP_STEP

    step: int | None = None

    def __post_init__(self) -> None:
        _optional(self.step, _check_step, "step")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(step=data.get("step"))

    def to_dict(self) -> JsonDict:
        return {} if self.step is None else {"step": self.step}


def _check_step(key: str, value: object) -> int:
    return check_int(key, value, low=0, high=MAX_PROFILE_STEPS - 1)


# Every request by its name: what a daemon routes on.
REQUESTS: Final[Mapping[Request, type[RequestModel]]] = {
    model.NAME: model
    for model in (
        GetState,
        SetRelay,
        SetThermostat,
        TakePhoto,
        RecordVideo,
        ReadingsSince,
        GetMedia,
        Simulate,
        SignUrl,
        ReportGravity,
        PauseProfile,
        ResumeProfile,
        SkipStep,
    )
}
# Requests that change something (a daemon rate-limits these; reads are free).
CONTROL_REQUESTS: Final = frozenset(
    {
        Request.SET_RELAY,
        Request.SET_THERMOSTAT,
        Request.TAKE_PHOTO,
        Request.RECORD_VIDEO,
        Request.SIMULATE,
        Request.REPORT_GRAVITY,
        Request.PAUSE_PROFILE,
        Request.RESUME_PROFILE,
        Request.SKIP_STEP,
    }
)


# -- answers --------------------------------------------------------------------


def ok(answer: JsonDict) -> JsonDict:
    """The wire form of a successful answer."""
    return {"ok": True, **answer}


def error(code: ErrorCode, message: str) -> JsonDict:
    """The wire form of a refusal (the client raises BeerPiRequestError from it)."""
    return {"ok": False, "error": code.value, "message": message}


@dataclass(frozen=True, slots=True, kw_only=True)
class StateAnswer:
    state: State = field(default_factory=State)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        state = data.get("state")
        return cls(state=State.from_dict(state if isinstance(state, Mapping) else {}))

    def to_dict(self) -> JsonDict:
        return {"state": self.state.to_dict()}


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayAnswer:
    relay: str
    on: bool

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(relay=_str(data, "relay"), on=_bool(data, "on"))

    def to_dict(self) -> JsonDict:
        return {"relay": self.relay, "on": self.on}


@dataclass(frozen=True, slots=True, kw_only=True)
class ThermostatAnswer:
    thermostat: ThermostatState

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        thermostat = data.get("thermostat")
        return cls(
            thermostat=ThermostatState.from_dict(
                thermostat if isinstance(thermostat, Mapping) else {}
            )
        )

    def to_dict(self) -> JsonDict:
        return {"thermostat": self.thermostat.to_dict()}


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoAnswer:
    """A recording that has started; the ``photo`` push says when its file is ready."""

    media: MediaInfo
    seconds: float
    ready: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            media=MediaInfo.from_dict(data),
            seconds=_float(data, "seconds", 0.0),
            ready=_bool(data, "ready"),
        )

    def to_dict(self) -> JsonDict:
        return {**self.media.to_dict(), "seconds": self.seconds, "ready": self.ready}


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaChunk:
    id: str
    offset: int
    size: int
    content_type: str
    data: bytes
    eof: bool

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Raises BeerPiRequestError (internal_error) for an answer without its data."""
        encoded, size = data.get("data"), data.get("size")
        if not isinstance(encoded, str) or isinstance(size, bool) or not isinstance(size, int):
            raise BeerPiRequestError(ErrorCode.INTERNAL_ERROR.value, "malformed get_media answer")
        try:
            chunk = base64.b64decode(encoded, validate=True)
        except binascii.Error as err:
            raise BeerPiRequestError(ErrorCode.INTERNAL_ERROR.value, f"bad chunk: {err}") from err
        return cls(
            id=_str(data, "id"),
            offset=_int(data, "offset"),
            size=size,
            content_type=_str(data, "content_type"),
            data=chunk,
            eof=_bool(data, "eof"),
        )

    def to_dict(self) -> JsonDict:
        return {
            "id": self.id,
            "offset": self.offset,
            "size": self.size,
            "content_type": self.content_type,
            "data": base64.b64encode(self.data).decode("ascii"),
            "eof": self.eof,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulateAnswer:
    # When the daemon applied it (its clock: a simulation may run faster than real time).
    at: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(at=_str(data, "at"))

    def to_dict(self) -> JsonDict:
        return {"at": self.at}


@dataclass(frozen=True, slots=True, kw_only=True)
class GravityAnswer:
    hydrometer: str
    # True: the reading is the hydrometer's latest now; False: a newer one was there.
    latest: bool

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(hydrometer=_str(data, "hydrometer"), latest=_bool(data, "latest"))

    def to_dict(self) -> JsonDict:
        return {"hydrometer": self.hydrometer, "latest": self.latest}


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedUrl:
    url: str
    expires_in_s: float

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(url=_str(data, "url"), expires_in_s=_float(data, "expires_in_s", 0.0))

    def to_dict(self) -> JsonDict:
        return {"url": self.url, "expires_in_s": self.expires_in_s}
