"""A fermenter with one relay (a heat belt alone, a fridge alone) or no air probe, as
Home Assistant shows it: run against a real simulated daemon with that config."""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.climate import (
    ATTR_HVAC_MODE,
    ATTR_HVAC_MODES,
    SERVICE_SET_HVAC_MODE,
    SERVICE_SET_TEMPERATURE,
)
from homeassistant.components.climate import DOMAIN as CLIMATE_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_TEMPERATURE,
    SERVICE_TURN_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.beerpi
from custom_components.beerpi.const import DOMAIN
from custom_components.beerpi.device_trigger import fault_sources
from custom_components.beerpi.diagnostics import async_get_config_entry_diagnostics
from custom_components.beerpi.protocol.client import BeerPiClient

from .conftest import DEVICE_ID, state_is, wait_for_state, wait_until
from .daemon import FAST_PROBES, Daemon

assert custom_components.beerpi

CLIMATE = "climate.beerpi_thermostat"

BEER = '[[probes]]\nid = "beer"\nname = "Beer"\nsimulated = "beer"\n'
AIR = '[[probes]]\nid = "fridge"\nname = "Fridge"\nsimulated = "air"\n'
HEATER = '[[relays]]\nid = "heater"\nname = "Heater"\npin = 17\n'
COOLER = '[[relays]]\nid = "cooler"\nname = "Cooler"\npin = 27\n'

# id: (config, the relays it has, the climate's modes)
SETUPS: dict[str, tuple[str, tuple[str, ...], list[str]]] = {
    "heat_belt": (
        BEER + AIR + HEATER + '[thermostat]\ncooler = ""\n',
        ("heater",),
        ["off", "heat"],
    ),
    "fridge": (
        BEER + AIR + COOLER + '[thermostat]\nheater = ""\n',
        ("cooler",),
        ["off", "cool"],
    ),
    "no_air_probe": (
        BEER + HEATER + COOLER + '[thermostat]\nchamber_probe = ""\n',
        ("heater", "cooler"),
        ["off", "heat", "cool", "heat_cool"],
    ),
}


@pytest.fixture(params=list(SETUPS))
def setup_id(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def daemon(tmp_path: Path, socket_enabled: None, setup_id: str) -> Generator[Daemon]:
    """The conftest's daemon, with this fermenter's config."""
    data_dir = tmp_path / "daemon"
    data_dir.mkdir(parents=True)
    (data_dir / "device.json").write_text(json.dumps({"id": DEVICE_ID}))
    config = data_dir / "one-relay.toml"
    config.write_text(FAST_PROBES + SETUPS[setup_id][0])
    process = Daemon(data_dir, extra_args=("--config", str(config)))
    process.start()
    yield process
    process.stop()


@pytest.fixture
def fast_daemon(daemon: Daemon) -> Daemon:
    """That daemon 600 times faster than real time: a fridge's compressor rests for
    10 minutes after a start before it may run."""
    daemon.stop()
    daemon.extra_args = (*daemon.extra_args, "--sim-speed", "600")
    daemon.start()
    return daemon


async def _climate(hass: HomeAssistant, service: str, **data: Any) -> None:
    await hass.services.async_call(
        CLIMATE_DOMAIN, service, {ATTR_ENTITY_ID: CLIMATE, **data}, blocking=True
    )


def _beerpi_entities(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """unique id -> entity id of every entity of the entry."""
    registry = er.async_get(hass)
    return {
        e.unique_id: e.entity_id
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    }


async def test_modes_are_the_fermenters(
    hass: HomeAssistant, init_integration: MockConfigEntry, setup_id: str
) -> None:
    """The climate offers off and the modes its relays can run, no other."""
    state = hass.states.get(CLIMATE)
    assert state is not None
    assert state.attributes[ATTR_HVAC_MODES] == SETUPS[setup_id][2]


@pytest.mark.parametrize("setup_id", ["heat_belt", "fridge"])
async def test_a_mode_it_cannot_run_is_refused_and_nothing_changes(
    hass: HomeAssistant,
    fast_daemon: Daemon,
    init_integration: MockConfigEntry,
    daemon_client: BeerPiClient,
    setup_id: str,
) -> None:
    """An automation asking for a mode the fermenter lacks gets Home Assistant's translated
    refusal, by set_hvac_mode or set_temperature alike (the latter got the daemon's English
    text); the mode and the target stay as they were. The mode it has runs its relay."""
    _, (relay,), modes = SETUPS[setup_id]
    missing = [m for m in ("heat", "cool", "heat_cool") if m not in modes]
    before = (await daemon_client.get_state()).thermostat
    for mode in missing:
        with pytest.raises(ServiceValidationError) as err:
            await _climate(hass, SERVICE_SET_HVAC_MODE, **{ATTR_HVAC_MODE: mode})
        assert err.value.translation_key == "not_valid_hvac_mode"
        # The target and a mode together: the same refusal, and the target is not taken.
        with pytest.raises(ServiceValidationError) as err:
            await _climate(
                hass, SERVICE_SET_TEMPERATURE, **{ATTR_HVAC_MODE: mode, ATTR_TEMPERATURE: 12}
            )
        assert err.value.translation_key == "not_valid_hvac_mode"
        if str(err.value) != "not_valid_hvac_mode":  # 2025.4 has no text for this key
            assert ", ".join(modes) in str(err.value)  # Home Assistant's words, with the modes
    after = (await daemon_client.get_state()).thermostat
    assert (after.mode, after.target) == (before.mode, before.target)
    # What it can run, it runs, switching its one relay; turn_on picks a mode it has.
    target = 30 if relay == "heater" else 5
    await _climate(
        hass, SERVICE_SET_TEMPERATURE, **{ATTR_HVAC_MODE: modes[1], ATTR_TEMPERATURE: target}
    )
    await wait_for_state(hass, CLIMATE, state_is(modes[1]))
    await wait_for_state(hass, f"binary_sensor.beerpi_{relay}", state_is("on"))
    await _climate(hass, "turn_off")
    await wait_for_state(hass, CLIMATE, state_is("off"))
    await _climate(hass, SERVICE_TURN_ON)
    await wait_for_state(hass, CLIMATE, state_is(modes[1]))


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_entities_only_for_what_is_there(
    hass: HomeAssistant, init_integration: MockConfigEntry, setup_id: str
) -> None:
    """Switches and sensors for the relays and probes it has, none for the others; none
    of them unavailable or unknown once the daemon has read its probes."""
    _, relays, _ = SETUPS[setup_id]
    entities = _beerpi_entities(hass, init_integration)
    for relay in ("heater", "cooler"):
        has = [u for u in entities if relay in u]
        assert bool(has) == (relay in relays), (relay, has)
    has_air = [u for u in entities if "fridge" in u]
    assert bool(has_air) == (setup_id != "no_air_probe"), has_air

    def settled() -> bool:
        states = [hass.states.get(e) for e in entities.values()]
        return all(s is not None and s.state != STATE_UNKNOWN for s in states if _measured(s))

    await wait_until(settled)
    stuck = {
        e: s.state
        for e in entities.values()
        if (s := hass.states.get(e)) is not None and s.state == STATE_UNAVAILABLE
    }
    assert not stuck


def _measured(state: Any) -> bool:
    """What reads the hardware: the probes' temperatures, the relays' states."""
    return state is not None and state.entity_id in (
        "sensor.beerpi_beer_temperature",
        "sensor.beerpi_fridge_temperature",
        "binary_sensor.beerpi_heater",
        "binary_sensor.beerpi_cooler",
    )


async def test_diagnostics_name_the_fermenter(
    hass: HomeAssistant, init_integration: MockConfigEntry, setup_id: str
) -> None:
    """Diagnostics show the relays and probes it has (and none it lacks); so do the
    device triggers' fault sources."""
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    _, relays, _ = SETUPS[setup_id]
    device, state = diagnostics["device"], diagnostics["state"]
    assert [r["id"] for r in device["relays"]] == list(relays)
    assert sorted(state["relays"]) == sorted(relays)
    thermostat = device["thermostat"]
    assert (thermostat["heater"], thermostat["cooler"]) == (
        "heater" if "heater" in relays else None,
        "cooler" if "cooler" in relays else None,
    )
    probes = ["beer"] if setup_id == "no_air_probe" else ["beer", "fridge"]
    assert [p["id"] for p in device["probes"]] == probes
    sources = set(fault_sources(init_integration.runtime_data))
    assert sources & {"heater", "cooler", "beer", "fridge"} == {*relays, *probes}


@pytest.mark.parametrize("setup_id", ["heat_belt", "fridge"])
async def test_a_profile_in_a_mode_it_cannot_run_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    daemon_client: BeerPiClient,
    setup_id: str,
) -> None:
    """beerpi.set_profile with a mode the fermenter lacks (the docs' example says
    heat_cool): refused in words, naming the modes it has; no profile starts."""
    modes = SETUPS[setup_id][2]
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "set_profile",
            {
                "config_entry_id": init_integration.entry_id,
                "mode": "heat_cool",
                "steps": [{"kind": "hold", "target": 18, "days": 4}],
            },
            blocking=True,
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "mode_not_available"
    assert err.value.translation_placeholders == {"mode": "heat_cool", "modes": ", ".join(modes)}
    assert f"cannot run in heat_cool: its thermostat has the modes {', '.join(modes)}" in str(
        err.value
    )
    thermostat = (await daemon_client.get_state()).thermostat
    assert thermostat.profile is None
    assert thermostat.mode == "off"


# The part a config takes out, and how many entities it had.
TAKEN_OUT = {"fridge": ("heater", 5), "no_air_probe": ("fridge", 2)}


@pytest.mark.parametrize("setup_id", list(TAKEN_OUT))
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_a_part_taken_out_of_the_config_leaves_no_entity_behind(
    hass: HomeAssistant, daemon: Daemon, mock_config_entry: MockConfigEntry, setup_id: str
) -> None:
    """A brewer who had a heater, a fridge and an air probe takes the heater out
    (heater = "") or the air probe (chamber_probe = ""): once the daemon restarts, their
    entities are gone, not 'unavailable' for ever (they stayed in the registry)."""
    gone, count = TAKEN_OUT[setup_id]
    config = daemon.data_dir / "one-relay.toml"
    taken_out = config.read_text()
    config.write_text(FAST_PROBES + BEER + AIR + HEATER + COOLER)
    daemon.stop()
    daemon.start()
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    had = [u for u in _beerpi_entities(hass, mock_config_entry) if gone in u]
    assert len(had) == count, had

    config.write_text(taken_out)
    daemon.stop()
    daemon.start()
    coordinator = mock_config_entry.runtime_data
    await wait_until(
        lambda: (
            # Older Home Assistant deletes runtime_data while the entry reloads.
            getattr(mock_config_entry, "runtime_data", coordinator) is not coordinator
            and mock_config_entry.runtime_data.client.connected
        ),
        30,
    )
    await hass.async_block_till_done()
    left = {u: e for u, e in _beerpi_entities(hass, mock_config_entry).items() if gone in u}
    assert left == {}
    assert not [s.entity_id for s in hass.states.async_all() if gone in s.entity_id]
    state = hass.states.get(CLIMATE)
    assert state is not None
    assert state.attributes[ATTR_HVAC_MODES] == SETUPS[setup_id][2]
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
