"""Protocol 2.1's gravity: the state's ``hydrometers`` and the ``report_gravity`` request.

An older client reads a 2.1 state without them (they are an added key); a 2.1
client drops an entry that is not a reading rather than inventing one, because a
profile step may end on it.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from beerpi_protocol import PROTOCOL_VERSION, HydrometerReading, ProfileStep, State
from beerpi_protocol.const import protocol_major
from beerpi_protocol.errors import InvalidArgument
from beerpi_protocol.requests import REQUESTS, GravityAnswer, ReportGravity

AT = "2026-11-27T18:00:00.000Z"
GOOD: dict[str, Any] = {
    "id": "tilt-red",
    "sg": 1.048,
    "temperature_c": 19.4,
    "battery": None,
    "angle": None,
    "at": AT,
}


def test_the_version_is_a_minor_step_of_2() -> None:
    assert PROTOCOL_VERSION == "2.2"
    assert protocol_major(PROTOCOL_VERSION) == 2


def test_a_state_carries_its_hydrometers_and_round_trips() -> None:
    state = State(hydrometers=(HydrometerReading.parse(GOOD),))  # type: ignore[arg-type]
    wire = state.to_dict()
    assert wire["hydrometers"] == [GOOD]
    assert State.from_dict(wire) == state


def test_a_2_0_state_reads_with_no_hydrometers() -> None:
    old = State().to_dict()
    del old["hydrometers"]
    assert State.from_dict(old).hydrometers == ()


@pytest.mark.parametrize(
    "change",
    [
        {"sg": 1.3},
        {"sg": 0.95},
        {"sg": math.nan},
        {"sg": math.inf},
        {"sg": "1.050"},
        {"sg": True},
        {"id": ""},
        {"id": 7},
        {"at": "yesterday"},
        {"at": "2026-11-27T18:00:00"},  # no offset: which time zone?
    ],
)
def test_an_entry_that_is_not_a_reading_is_dropped(change: dict[str, Any]) -> None:
    data = {"hydrometers": [GOOD, {**GOOD, "id": "other", **change}]}
    assert [h.id for h in State.from_dict(data).hydrometers] == ["tilt-red"]


def test_optional_values_out_of_range_read_as_unknown() -> None:
    reading = HydrometerReading.parse({**GOOD, "temperature_c": math.nan, "angle": 400.0})
    assert reading is not None
    assert reading.temperature_c is None
    assert reading.angle is None


def test_a_gravity_step_round_trips_and_a_plain_one_reads_as_in_2_0() -> None:
    step = ProfileStep(kind="hold", target=18.0, hours=336.0, stable_within=0.001, stable_hours=24)
    assert ProfileStep.from_dict(step.to_dict()) == step
    assert step.ends_on_gravity
    plain = ProfileStep(kind="hold", target=18.0, hours=72.0)
    assert plain.to_dict() == {"kind": "hold", "target": 18.0, "hours": 72.0}
    assert not plain.ends_on_gravity


def test_report_gravity_round_trips() -> None:
    request = ReportGravity(hydrometer="ispindel-1", sg=1.012, at=AT, angle=31.5, battery=3.9)
    assert REQUESTS[request.NAME] is ReportGravity
    assert ReportGravity.from_dict(request.to_dict()) == request
    assert request.to_dict() == {
        "hydrometer": "ispindel-1",
        "sg": 1.012,
        "at": AT,
        "battery": 3.9,
        "angle": 31.5,
    }
    assert GravityAnswer.from_dict({"hydrometer": "x", "latest": True}).latest


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"sg": 1.01, "at": AT}, "hydrometer is required"),
        ({"hydrometer": "i", "at": AT}, "sg is required"),
        ({"hydrometer": "i", "sg": 1.01}, "at is required"),
        ({"hydrometer": "i", "sg": "1.01", "at": AT}, "sg must be a number, got a string"),
        ({"hydrometer": "i", "sg": math.nan, "at": AT}, "sg must be a finite number"),
        ({"hydrometer": "i", "sg": 1.25, "at": AT}, "sg must be between 0.99 and 1.2, got 1.25"),
        ({"hydrometer": "i", "sg": 1.01, "at": 5}, "at must be a time (ISO 8601 text), got a n"),
        ({"hydrometer": "i", "sg": 1.01, "at": "2026-11-27 18:00"}, "at must be an ISO 8601 t"),
        ({"hydrometer": "", "sg": 1.01, "at": AT}, "hydrometer must be 1 to 64 characters"),
        (
            {"hydrometer": "i", "sg": 1.01, "at": AT, "temperature_c": 200},
            "temperature_c must be between -20 and 110, got 200",
        ),
        (
            {"hydrometer": "i", "sg": 1.01, "at": AT, "angle": math.inf},
            "angle must be a finite number",
        ),
    ],
)
def test_report_gravity_refuses_bad_fields_by_name(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        ReportGravity.from_dict(payload)
    assert str(caught.value.message).startswith(message)
