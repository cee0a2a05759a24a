"""Faults as events, device triggers (by code too) and problem sensors, known codes or not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.components import automation
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant, ServiceCall, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

import custom_components.beerpi
from custom_components.beerpi.const import BEERPI_EVENT, DOMAIN
from custom_components.beerpi.protocol.client import BeerPiClient
from custom_components.beerpi.protocol.models import FaultInfo

from .conftest import detach, push, state_is, wait_for_state, wait_until
from .daemon import Daemon

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


async def test_a_damaged_file_on_the_pi_is_a_repair_issue_until_a_clean_start(
    hass: HomeAssistant, daemon: Daemon, mock_config_entry: MockConfigEntry
) -> None:
    """The daemon found thermostat.json damaged, moved it aside and went on: Home
    Assistant says so in Repairs (the card may be failing), with the daemon's words,
    and the issue goes once a start finds nothing wrong."""
    await hass.async_add_executor_job(daemon.stop)
    (daemon.data_dir / "thermostat.json").write_text('{"mode": "heat", "targ')
    await hass.async_add_executor_job(daemon.start)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    registry = ir.async_get(hass)
    issue_id = f"storage_{mock_config_entry.entry_id}"
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_key == "storage"
    placeholders = issue.translation_placeholders or {}
    assert placeholders["name"] == "BeerPi"
    assert "thermostat.json is unreadable" in placeholders["message"]
    assert "moved aside to thermostat.json.damaged-" in placeholders["message"]
    assert "the thermostat started in [thermostat] initial_mode" in placeholders["message"]
    # The climate works meanwhile: the daemon controls as it would without the file.
    assert hass.states.get("climate.beerpi_thermostat") is not None

    await hass.async_add_executor_job(daemon.stop)
    await hass.async_add_executor_job(daemon.start)
    await wait_until(lambda: registry.async_get_issue(DOMAIN, issue_id) is None)
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()


async def test_a_storage_message_stays_text_in_the_repair_issue(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Repairs render the description as Markdown: a device's message goes in a code
    span, so it may not end it (no backquote), break the line, or run on for pages."""
    coordinator = await detach(init_integration)
    registry = ir.async_get(hass)
    issue_id = f"storage_{init_integration.entry_id}"
    hostile = "`![x](http://evil.example/x.png)` [click](http://evil.example)\n# title" + "a" * 1500
    fault = FaultInfo.from_dict({"source": "storage", "code": "storage", "message": hostile})
    push(coordinator, faults=(fault,))
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    message = (issue.translation_placeholders or {})["message"]
    assert "`" not in message
    assert "\n" not in message
    assert len(message) == 1000
    assert message.endswith("…")
    # The description wraps it in a code span: the text shows, nothing is fetched.
    strings = json.loads(
        Path(custom_components.beerpi.__file__).with_name("strings.json").read_text()
    )
    assert "`{message}`" in strings["issues"]["storage"]["description"]

    push(coordinator, faults=())
    assert registry.async_get_issue(DOMAIN, issue_id) is None


async def test_a_reload_clears_a_storage_issue_the_daemon_no_longer_reports(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The issue is synced from the first state after set-up, not only on a change:
    a reload (or a new coordinator) against a daemon without the fault removes it."""
    coordinator = await detach(init_integration)
    fault = FaultInfo.from_dict({"source": "storage", "code": "storage", "message": "full"})
    push(coordinator, faults=(fault,))
    registry = ir.async_get(hass)
    issue_id = f"storage_{init_integration.entry_id}"
    assert registry.async_get_issue(DOMAIN, issue_id) is not None
    await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert registry.async_get_issue(DOMAIN, issue_id) is None
