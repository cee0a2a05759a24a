"""Faults as events, device triggers (by code too) and problem sensors, known codes or not."""

from __future__ import annotations

from typing import Any

from homeassistant.components import automation
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant, ServiceCall, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

import custom_components.beerpi
from custom_components.beerpi.const import BEERPI_EVENT, DOMAIN
from custom_components.beerpi.protocol.client import BeerPiClient
from custom_components.beerpi.protocol.models import FaultInfo

from .conftest import detach, push, state_is, wait_for_state, wait_until

assert custom_components.beerpi


def _device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    [device] = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return device.id


async def test_relay_and_link_faults(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A heater with no effect and a refused server link: problem, event, bus event."""
    coordinator = await detach(init_integration)
    await hass.async_block_till_done()
    bus: list[Event] = []

    @callback
    def record(event: Event) -> None:
        bus.append(event)

    hass.bus.async_listen(BEERPI_EVENT, record)
    faults = (
        FaultInfo.from_dict(
            {"source": "heater", "code": "no_effect", "message": "on 30 min, beer not warming"}
        ),
        FaultInfo.from_dict({"source": "dialout", "code": "link", "message": "token refused"}),
        FaultInfo.from_dict({"source": "thermostat", "code": "flux", "message": "from 2030"}),
    )
    push(coordinator, faults=faults)
    await hass.async_block_till_done()

    problem = hass.states.get("binary_sensor.beerpi_problem")
    assert problem is not None
    assert problem.state == STATE_ON
    assert problem.attributes["faults"] == [
        "heater: no_effect",
        "dialout: link",
        "thermostat: unknown",
    ]
    assert [(e.data["source"], e.data["code"], e.data["type"]) for e in bus] == [
        ("heater", "no_effect", "fault_raised"),
        ("dialout", "link", "fault_raised"),
        ("thermostat", "unknown", "fault_raised"),
    ]
    assert bus[2].data["message"] == "from 2030"
    event = hass.states.get("event.beerpi_fault")
    assert event is not None
    assert event.attributes["code"] == "unknown"

    push(coordinator, faults=faults[1:])
    await hass.async_block_till_done()
    # Once when raised and once when cleared, not at every push while a fault lasts
    # (docs/home-assistant-triggers.md, Good to know): the one new event is the clear.
    assert [(e.data["source"], e.data["type"]) for e in bus[3:]] == [("heater", "fault_cleared")]
    push(coordinator, faults=())
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.beerpi_problem").state == STATE_OFF  # type: ignore[union-attr]


async def test_relay_fault_sensor(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Enabled by the user: on while that relay is in fault, with the codes."""
    from homeassistant.helpers import entity_registry as er

    registry = er.async_get(hass)
    registry.async_update_entity("binary_sensor.beerpi_heater_fault", disabled_by=None)
    await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    coordinator = await detach(init_integration)
    push(
        coordinator,
        faults=(FaultInfo.from_dict({"source": "heater", "code": "max_run_time"}),),
    )
    state = await wait_for_state(hass, "binary_sensor.beerpi_heater_fault", state_is(STATE_ON))
    assert state.attributes["codes"] == ["max_run_time"]
    assert state.attributes["device_class"] == "problem"


async def test_trigger_narrowed_to_a_code(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    daemon_client: BeerPiClient,
    service_calls: list[ServiceCall],
    hass_ws_client: WebSocketGenerator,
) -> None:
    device_id = _device_id(hass, init_integration)
    base = {"platform": "device", "domain": DOMAIN, "device_id": device_id}
    assert await async_setup_component(hass, "device_automation", {})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "device_automation/trigger/capabilities",
            "trigger": {**base, "type": "fault_raised"},
        }
    )
    answer = await client.receive_json()
    assert answer["success"], answer
    [field] = answer["result"]["extra_fields"]
    assert field["name"] == "code"
    assert field["optional"] is True
    options: list[str] = field["selector"]["select"]["options"]
    assert {"no_effect", "link", "disconnected", "unknown"} <= set(options)

    def rule(code: str) -> dict[str, Any]:
        return {
            "trigger": {**base, "type": "fault_raised", "code": code, "id": code},
            "action": {"service": "test.automation", "data_template": {"id": "{{ trigger.id }}"}},
        }

    assert await async_setup_component(
        hass, automation.DOMAIN, {automation.DOMAIN: [rule("crc"), rule("disconnected")]}
    )
    await daemon_client.simulate(probe="fridge", fault="disconnected")
    await wait_until(lambda: len(service_calls) >= 1)
    await daemon_client.simulate(probe="fridge", clear=True)
    await hass.async_block_till_done()
    assert [call.data["id"] for call in service_calls] == ["disconnected"]
