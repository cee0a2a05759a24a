"""``beerpi.report_gravity`` and the "forward a gravity sensor" blueprint, on the real daemon."""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from homeassistant.components import automation
from homeassistant.components.blueprint import models
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_system import METRIC_SYSTEM, US_CUSTOMARY_SYSTEM, UnitSystem
from homeassistant.util.yaml import load_yaml
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.beerpi
from custom_components.beerpi.const import DOMAIN
from custom_components.beerpi.protocol.client import BeerPiClient
from custom_components.beerpi.protocol.models import HydrometerReading

from .conftest import wait_until
from .daemon import ROOT

assert custom_components.beerpi

BLUEPRINT = ROOT / "blueprints" / "automation" / "beerpi" / "forward_gravity.yaml"


async def _reading(client: BeerPiClient, hydrometer: str) -> HydrometerReading | None:
    state = await client.get_state()
    return next((h for h in state.hydrometers if h.id == hydrometer), None)


async def test_report_gravity_reaches_the_daemon(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    hass.config.units = US_CUSTOMARY_SYSTEM
    answer = await hass.services.async_call(
        DOMAIN,
        "report_gravity",
        {
            "config_entry_id": init_integration.entry_id,
            "gravity": 1.0125,
            "temperature": 68.0,
            "hydrometer": "rapt-pill",
        },
        blocking=True,
        return_response=True,
    )
    assert answer == {"hydrometer": "rapt-pill", "sg": 1.0125, "latest": True}
    reading = await _reading(daemon_client, "rapt-pill")
    assert reading is not None
    assert reading.sg == 1.0125
    assert reading.temperature_c == 20.0  # 68 °F in Home Assistant's unit, °C on the Pi


async def test_report_gravity_in_plato_with_its_own_time(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    taken = dt_util.utcnow().replace(microsecond=0) - timedelta(minutes=20)
    await hass.services.async_call(
        DOMAIN,
        "report_gravity",
        {
            "config_entry_id": init_integration.entry_id,
            "gravity": 3.0,
            "gravity_unit": "plato",
            "taken_at": taken.isoformat(),
        },
        blocking=True,
    )
    reading = await _reading(daemon_client, "home-assistant")
    assert reading is not None
    assert reading.sg == pytest.approx(1.0118, abs=0.0001)
    assert dt_util.parse_datetime(reading.at) == taken
    assert reading.temperature_c is None


@pytest.mark.parametrize("plato", [-3.0, 45.0])
async def test_plato_beyond_the_pis_range_is_refused_in_plato(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    daemon_client: BeerPiClient,
    plato: float,
) -> None:
    """Before: "sg must be between 0.99 and 1.2, got 1.2109" to a brewer who gave 45 °P."""
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "report_gravity",
            {
                "config_entry_id": init_integration.entry_id,
                "gravity": plato,
                "gravity_unit": "plato",
            },
            blocking=True,
        )
    assert err.value.translation_key == "gravity_plato_out_of_range"
    assert str(err.value) == (
        f"The gravity, {plato:g} °P, is outside what the BeerPi takes: -2.6 to 43.9 °P "
        "(0.990 to 1.200 SG)"
    )
    assert {h.id for h in (await daemon_client.get_state()).hydrometers} <= {"tilt-red"}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"gravity": 1.5}, "invalid_argument"),  # beyond any hydrometer's range
        ({"gravity": 1.010, "hydrometer": "x" * 200}, "invalid_argument"),
        ({"gravity": 1.010, "taken_at": "2020-01-01T00:00:00+00:00"}, "time_too_old"),
    ],
    ids=["gravity", "name", "too old"],
)
async def test_bad_input_is_a_translated_validation_error(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    daemon_client: BeerPiClient,
    data: dict[str, object],
    key: str,
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "report_gravity",
            {"config_entry_id": init_integration.entry_id, **data},
            blocking=True,
        )
    assert err.value.translation_key == key
    assert err.value.translation_placeholders is not None
    assert str(err.value)
    # Nothing stored: only the simulated daemon's own Tilt is there.
    assert {h.id for h in (await daemon_client.get_state()).hydrometers} <= {"tilt-red"}


async def _refusal(hass: HomeAssistant, entry: MockConfigEntry, **data: object) -> str:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "report_gravity",
            {"config_entry_id": entry.entry_id, **data},
            blocking=True,
        )
    return str(err.value)


@pytest.mark.parametrize(
    ("gravity", "text"),
    [
        (1.2, "Not a valid BeerPi request: gravity must be between 0.99 and 1.2, got 1.21"),
        ("nan", "Not a valid BeerPi request: gravity must be a finite number"),
    ],
    ids=["out of range", "not finite"],
)
async def test_a_refused_gravity_names_the_actions_field(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    daemon_client: BeerPiClient,
    gravity: object,
    text: str,
) -> None:
    """Before: "sg must be between 0.99 and 1.2", the daemon's key, to a user who typed
    ``gravity``."""
    given = 1.21 if gravity == 1.2 else gravity
    assert await _refusal(hass, init_integration, gravity=given) == text
    assert {h.id for h in (await daemon_client.get_state()).hydrometers} <= {"tilt-red"}


async def test_an_old_taken_at_is_refused_in_days_by_its_own_name(
    hass: HomeAssistant, init_integration: MockConfigEntry, daemon_client: BeerPiClient
) -> None:
    """Before: "at is 3636124 min ago; readings older than 120 min are refused"."""
    taken = dt_util.parse_datetime("2020-01-01T00:00:00+00:00")
    assert taken is not None
    days = (dt_util.utcnow() - taken) / timedelta(days=1)
    text = await _refusal(hass, init_integration, gravity=1.01, taken_at=taken.isoformat())
    shown = {f"{round(d):,} days" for d in (days - 0.5, days, days + 0.5)}
    assert text in {
        f"taken_at is {age} ago; the BeerPi takes readings from the last 2 h only: "
        "give a time within the last 2 h"
        for age in shown
    }
    # Hours, not minutes, for a reading of this morning.
    taken = dt_util.utcnow() - timedelta(hours=5)
    text = await _refusal(hass, init_integration, gravity=1.01, taken_at=taken.isoformat())
    assert text.startswith("taken_at is 5 h ago; ")
    assert {h.id for h in (await daemon_client.get_state()).hydrometers} <= {"tilt-red"}


async def test_a_taken_at_in_the_future_is_refused_by_its_own_name(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Before: "at is 1440 min ahead of this BeerPi's clock"."""
    taken = dt_util.utcnow() + timedelta(days=1)
    text = await _refusal(hass, init_integration, gravity=1.01, taken_at=taken.isoformat())
    assert text.startswith("taken_at is 24 h ahead of the BeerPi's clock: ")


@pytest.mark.parametrize(
    ("units", "temperature", "placeholders"),
    [
        (METRIC_SYSTEM, 500, {"temperature": "500", "min": "-20", "max": "110", "unit": "°C"}),
        (
            US_CUSTOMARY_SYSTEM,
            250,
            {"temperature": "250", "min": "-4", "max": "230", "unit": "°F"},
        ),
    ],
    ids=["celsius", "fahrenheit"],
)
async def test_a_temperature_out_of_range_is_refused_in_the_homes_unit(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    daemon_client: BeerPiClient,
    units: UnitSystem,
    temperature: float,
    placeholders: dict[str, str],
) -> None:
    """Before: "temperature_c must be between -20 and 110, got 121.111" to a °F home."""
    hass.config.units = units
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "report_gravity",
            {
                "config_entry_id": init_integration.entry_id,
                "gravity": 1.01,
                "temperature": temperature,
            },
            blocking=True,
        )
    assert err.value.translation_key == "hydrometer_temperature_out_of_range"
    assert err.value.translation_placeholders == placeholders
    unit = placeholders["unit"]
    assert str(err.value) == (
        f"The hydrometer's temperature, {temperature} {unit}, is outside what the BeerPi "
        f"takes: {placeholders['min']} to {placeholders['max']} {unit}"
    )
    assert {h.id for h in (await daemon_client.get_state()).hydrometers} <= {"tilt-red"}


async def test_report_gravity_to_an_unknown_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "report_gravity", {"config_entry_id": "nope", "gravity": 1.01}, blocking=True
        )
    assert err.value.translation_key == "entry_not_found"


def test_the_blueprint_passes_home_assistants_blueprint_schema() -> None:
    data = load_yaml(BLUEPRINT)
    assert isinstance(data, dict)
    blueprint = models.Blueprint(
        data,
        expected_domain=automation.DOMAIN,
        schema=automation.config.AUTOMATION_BLUEPRINT_SCHEMA,
    )
    assert set(blueprint.inputs) == {
        "beerpi",
        "gravity_sensor",
        "gravity_unit",
        "temperature_sensor",
        "hydrometer",
    }
    # The resend: the latest reading again every quarter of an hour.
    assert {"trigger": "time_pattern", "minutes": "/15"} in data["triggers"]


async def test_the_blueprint_forwards_a_sensor_and_skips_what_is_no_number(
    hass: HomeAssistant,
    tmp_path: Path,
    init_integration: MockConfigEntry,
    daemon_client: BeerPiClient,
) -> None:
    hass.config.config_dir = str(tmp_path)
    target = tmp_path / "blueprints" / "automation" / "beerpi"
    target.mkdir(parents=True)
    shutil.copy(BLUEPRINT, target)
    hass.states.async_set("sensor.tilt_temperature", "19.5", {"device_class": "temperature"})
    config = {
        "use_blueprint": {
            "path": "beerpi/forward_gravity.yaml",
            "input": {
                "beerpi": init_integration.entry_id,
                "gravity_sensor": "sensor.tilt_gravity",
                "temperature_sensor": "sensor.tilt_temperature",
                "hydrometer": "tilt-blue",
            },
        }
    }
    assert await async_setup_component(hass, automation.DOMAIN, {automation.DOMAIN: [config]})
    await hass.async_block_till_done()
    [automation_state] = hass.states.async_all(automation.DOMAIN)
    assert automation_state.state == "on"

    try:
        await _forwarded(hass, daemon_client, automation_state.entity_id)
    finally:
        # Its 15-minute trigger is a timer: stop it, as a user turning the automation off would.
        await hass.services.async_call(
            automation.DOMAIN, "turn_off", {"entity_id": automation_state.entity_id}, blocking=True
        )


async def _forwarded(hass: HomeAssistant, daemon_client: BeerPiClient, automation_id: str) -> None:
    hass.states.async_set("sensor.tilt_gravity", "1.0164")
    await hass.async_block_till_done()
    await wait_until(lambda: hass.states.get("sensor.beerpi_blue_tilt_gravity") is not None)
    reading = await _reading(daemon_client, "tilt-blue")
    assert reading is not None
    assert reading.sg == 1.0164
    assert reading.temperature_c == 19.5
    sent_at = reading.at

    # Not a number (the hydrometer is away): nothing is sent.
    hass.states.async_set("sensor.tilt_gravity", "unavailable")
    await hass.async_block_till_done()
    reading = await _reading(daemon_client, "tilt-blue")
    assert reading is not None
    assert reading.at == sent_at

    hass.states.async_set("sensor.tilt_gravity", "1.0160")
    await hass.async_block_till_done()
    reading = await _reading(daemon_client, "tilt-blue")
    assert reading is not None
    assert reading.sg == 1.016
    changed_at = reading.at

    # The hydrometer reports the same gravity again: Home Assistant writes no new
    # state (no state trigger), only a newer "last reported" ...
    await asyncio.sleep(1.1)
    hass.states.async_set("sensor.tilt_gravity", "1.0160")
    await hass.async_block_till_done()
    reported = hass.states.get("sensor.tilt_gravity")
    assert reported is not None
    assert reported.last_reported > reported.last_changed
    reading = await _reading(daemon_client, "tilt-blue")
    assert reading is not None
    assert reading.at == changed_at
    # ... which the quarter-hourly resend hands on, so the BeerPi sees a fresh
    # reading of a gravity that no longer changes (what "stable for 24 h" needs).
    # Run as the time trigger would (with its condition); jumping the clock 15
    # minutes would also fire the integration's own socket timers.
    await hass.services.async_call(
        automation.DOMAIN,
        "trigger",
        {"entity_id": automation_id, "skip_condition": False},
        blocking=True,
    )
    await hass.async_block_till_done()
    for _ in range(150):  # the daemon announces nothing: ask until it has it
        reading = await _reading(daemon_client, "tilt-blue")
        if reading is not None and reading.at != changed_at:
            break
        await asyncio.sleep(0.1)
    assert reading is not None
    assert reading.sg == 1.016
    sent = dt_util.parse_datetime(reading.at)
    assert sent is not None
    assert abs((sent - reported.last_reported).total_seconds()) < 0.01
