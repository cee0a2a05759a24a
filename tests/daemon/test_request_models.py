"""The protocol's request models: what a daemon accepts is what a client can build.

The live-daemon tests (test_requests.py) show the daemon answers with these checks;
here each model's reader is held to the wire format and to its messages.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from beerpi_protocol import ErrorCode, Request, ThermostatMode
from beerpi_protocol.const import MEDIA_CHUNK_BYTES
from beerpi_protocol.errors import BeerPiRequestError, InvalidArgument
from beerpi_protocol.models import MediaInfo, State
from beerpi_protocol.profiles import check_profile
from beerpi_protocol.requests import (
    CONTROL_REQUESTS,
    REQUESTS,
    GetMedia,
    MediaChunk,
    ReadingsSince,
    RecordVideo,
    ReportGravity,
    SetRelay,
    SetThermostat,
    Simulate,
    VideoAnswer,
)
from beerpi_protocol.timestamps import iso, parse_iso


def test_every_request_name_has_a_model_and_round_trips() -> None:
    assert set(REQUESTS) == set(Request)
    assert set(Request) > CONTROL_REQUESTS
    built: list[Any] = [
        SetRelay(relay="heater", on=True),
        SetThermostat(mode=ThermostatMode.HEAT, target=19.5),
        SetThermostat(profile={"steps": []}),
        SetThermostat(clear_profile=True),
        RecordVideo(seconds=3),
        ReadingsSince(cursor="00000042", limit=10),
        GetMedia(id="photo-1", offset=5),
        Simulate(probe="beer", fault="crc"),
        Simulate(relay="heater", broken=True),
    ]
    for request in built:
        assert REQUESTS[request.NAME] is type(request)
        assert type(request).from_dict(request.to_dict()) == request


@pytest.mark.parametrize(
    ("model", "payload", "message"),
    [
        (SetRelay, {"relay": "heater"}, "on is required"),
        (SetRelay, {"relay": "heater", "on": "yes"}, "on must be true or false, got a string"),
        (SetRelay, {"relay": "heater", "on": 1}, "on must be true or false, got a number"),
        (SetRelay, {"relay": 5, "on": True}, "relay must be a string, got a number"),
        (SetRelay, {"relay": "", "on": True}, "relay must be 1 to 64 characters long"),
        (SetThermostat, {}, "give at least one of mode, target, profile"),
        (SetThermostat, {"mode": "boil"}, "mode must be one of off, heat, cool, heat_cool"),
        (SetThermostat, {"target": "20"}, "target must be a number, got a string"),
        (SetThermostat, {"target": True}, "target must be a number, got a boolean"),
        (SetThermostat, {"target": math.nan}, "target must be a finite number"),
        # JSON integers have no size limit; float() of this one raises OverflowError.
        (SetThermostat, {"target": 10**400}, "target must be a finite number"),
        (RecordVideo, {"seconds": -(10**400)}, "seconds must be a finite number"),
        (ReadingsSince, {"limit": 10**400}, "limit must be at most 5000, got 1000000000000000..."),
        (SetRelay, {"relay": "heater\x1b[2J", "on": True}, "relay must not hold control"),
        (
            ReportGravity,
            {"hydrometer": "Red Tilt", "sg": 1.05, "at": "2026-11-29T12:00:00Z"},
            "hydrometer must be letters, digits and _ . : - only (no spaces)",
        ),
        (
            ReportGravity,
            {"hydrometer": "tilt", "sg": 10**400, "at": "2026-11-29T12:00:00Z"},
            "sg must be a finite number",
        ),
        # docs/protocol.md, report_gravity: battery 0 to 1000, angle -180 to 180.
        (
            ReportGravity,
            {"hydrometer": "ispindel-1", "sg": 1.05, "at": "2026-11-29T12:00:00Z", "battery": -0.1},
            "battery must be between 0 and 1000, got -0.1",
        ),
        (
            ReportGravity,
            {"hydrometer": "ispindel-1", "sg": 1.05, "at": "2026-11-29T12:00:00Z", "battery": 1001},
            "battery must be between 0 and 1000, got 1001",
        ),
        (
            ReportGravity,
            {"hydrometer": "ispindel-1", "sg": 1.05, "at": "2026-11-29T12:00:00Z", "angle": 180.5},
            "angle must be between -180 and 180, got 180.5",
        ),
        (
            ReportGravity,
            {"hydrometer": "ispindel-1", "sg": 1.05, "at": "2026-11-29T12:00:00Z", "angle": -181},
            "angle must be between -180 and 180, got -181",
        ),
        (SetThermostat, {"profile": "ale"}, "profile must be an object"),
        (RecordVideo, {}, "seconds is required"),
        (RecordVideo, {"seconds": 0}, "seconds must be more than 0 and at most 600, got 0"),
        (ReadingsSince, {"limit": 0}, "limit must be at least 1, got 0"),
        (ReadingsSince, {"cursor": 7}, "cursor must be a string or null, got a number"),
        (GetMedia, {"id": "x", "length": 10**6}, f"length must be at most {MEDIA_CHUNK_BYTES}"),
        (Simulate, {}, "give probe (with fault/clear), ambient, or relay (with broken)"),
        (Simulate, {"probe": "beer"}, "give fault or clear with probe"),
        (Simulate, {"probe": "beer", "fault": "melted"}, "fault must be one of"),
        (Simulate, {"ambient": 500}, "ambient must be between -30 and 60, got 500"),
        (Simulate, {"relay": "heater"}, "give relay and broken together"),
        (
            Simulate,
            {"relay": "heater", "broken": True, "ambient": 20},
            "break a relay in a request of its own",
        ),
    ],
)
def test_a_bad_request_is_an_invalid_argument_naming_its_field(
    model: Any, payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        model.from_dict(payload)
    assert caught.value.code == ErrorCode.INVALID_ARGUMENT.value
    assert caught.value.message.startswith(message)


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ({"name": "p", "steps": [{"target": 10**400, "hours": 1}]}, "steps[0].target must be a"),
        ({"name": "p", "steps": [{"target": 20, "days": 10**400}]}, "steps[0].days must be at"),
        # docs/protocol.md: stable_within above 0 and at most 0.05.
        (
            {
                "name": "p",
                "steps": [{"target": 20, "days": 1, "stable_within": 0.051, "stable_hours": 24}],
            },
            "steps[0].stable_within must be more than 0 and at most 0.05",
        ),
        (
            {
                "name": "p",
                "steps": [{"target": 20, "days": 1, "stable_within": 0, "stable_hours": 24}],
            },
            "steps[0].stable_within must be more than 0 and at most 0.05",
        ),
        # A name is shown on pages and written to the daemon's log: no forged log line.
        (
            {"name": "ale\nCRITICAL heater welded on", "steps": [{"target": 20, "hours": 1}]},
            "name must not hold control characters",
        ),
    ],
)
def test_a_profile_with_a_huge_number_or_a_control_character_is_refused(
    profile: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        check_profile(profile, min_c=-2.0, max_c=35.0)


def test_the_edges_of_a_reported_readings_ranges_are_accepted() -> None:
    """docs/protocol.md, report_gravity: the ranges are inclusive at both ends."""
    at = "2026-11-29T12:00:00Z"
    for battery, angle, temperature in ((0, -180, -20), (1000, 180, 110)):
        reading = ReportGravity.from_dict(
            {
                "hydrometer": "ispindel-1",
                "sg": 1.2,
                "at": at,
                "battery": battery,
                "angle": angle,
                "temperature_c": temperature,
            }
        )
        assert (reading.battery, reading.angle) == (battery, angle)
    stable = {"target": 20, "days": 1, "stable_within": 0.05, "stable_hours": 72}
    check_profile({"name": "p", "steps": [stable]}, min_c=-2.0, max_c=35.0)


def test_building_checks_like_reading() -> None:
    """A client cannot build what a daemon would refuse (it fails before sending)."""
    with pytest.raises(InvalidArgument, match="target must be a finite number"):
        SetThermostat(target=math.inf)
    with pytest.raises(InvalidArgument, match="mode must be one of"):
        SetThermostat(mode="boil")  # type: ignore[arg-type]
    assert SetThermostat(mode="cool").mode is ThermostatMode.COOL  # type: ignore[arg-type]


def test_unknown_keys_are_ignored_and_null_profile_clears() -> None:
    assert SetRelay.from_dict({"relay": "h", "on": False, "colour": "red"}) == SetRelay(
        relay="h", on=False
    )
    cleared = SetThermostat.from_dict({"profile": None})
    assert cleared.clear_profile
    assert cleared.sets_profile
    assert cleared.to_dict() == {"profile": None}
    assert not SetThermostat.from_dict({"target": 18}).sets_profile


def test_answers_read_leniently_but_a_bad_media_chunk_is_an_error() -> None:
    media = MediaInfo(id="video-1", kind="video", url="/api/media/video-1")
    answer = VideoAnswer(media=media, seconds=2.0)
    assert VideoAnswer.from_dict(answer.to_dict()) == answer
    chunk = MediaChunk(id="p", offset=0, size=3, content_type="image/jpeg", data=b"abc", eof=True)
    assert MediaChunk.from_dict(chunk.to_dict()) == chunk
    with pytest.raises(BeerPiRequestError, match="bad chunk"):
        MediaChunk.from_dict({**chunk.to_dict(), "data": "%%%"})
    with pytest.raises(BeerPiRequestError, match="malformed get_media answer"):
        MediaChunk.from_dict({"data": "YWJj", "size": True})


def test_one_timestamp_format_both_ways() -> None:
    moment = datetime(2026, 11, 25, 18, 0, 0, 123456, tzinfo=UTC)
    assert iso(moment) == "2026-11-25T18:00:00.123Z"
    assert parse_iso("2026-11-25T18:00:00.123Z") == moment.replace(microsecond=123000)
    east = datetime(2026, 11, 25, 19, 0, tzinfo=timezone(timedelta(hours=1)))
    assert parse_iso(east.isoformat()) == datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="must be timezone-aware"):
        parse_iso("2026-11-25T18:00:00")
    assert parse_iso("2026-11-25T18:00:00", naive_as_utc=True).tzinfo is UTC
    with pytest.raises(ValueError, match="out of range"):
        parse_iso("9999-12-31T23:00-05:00")


def test_a_state_with_a_number_too_large_for_a_float_reads_as_no_value() -> None:
    """Read leniently, as every state is: no OverflowError in Home Assistant or the web."""
    state = State.from_dict(
        {"probes": {"beer": {"temperature": 10**400}}, "thermostat": {"target": -(10**400)}}
    )
    assert state.probes["beer"].temperature is None
    assert state.thermostat.target is None
