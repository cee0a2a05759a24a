"""Device triggers: fault raised/cleared, from any source or one, fired by the real daemon."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.components import automation
from homeassistant.components.device_automation import (
    DeviceAutomationType,
    InvalidDeviceAutomationConfig,
)
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
)

from custom_components.beerpi import device_trigger
from custom_components.beerpi.const import DOMAIN
from custom_components.beerpi.protocol.client import BeerPiClient

from .conftest import wait_until

STRINGS = Path(device_trigger.__file__).with_name("strings.json")


def beerpi_device(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 1
    return devices[0]


def trigger(device_id: str, kind: str, subtype: str | None = None) -> dict[str, Any]:
    config = {"platform": "device", "domain": DOMAIN, "device_id": device_id, "type": kind}
    return config if subtype is None else {**config, "subtype": subtype}


async def listed_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, Any]]:
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device_id)
    # Entity platforms (button, switch...) add their own; newer cores add "metadata".
    return [
        {k: v for k, v in t.items() if k != "metadata"} for t in triggers if t["domain"] == DOMAIN
    ]


async def test_triggers_listed_per_source(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    device_id = beerpi_device(hass, init_integration).id
    triggers = await listed_triggers(hass, device_id)
    expected = [trigger(device_id, "fault_raised"), trigger(device_id, "fault_cleared")]
    for source in (
        "beer",
        "fridge",
        "heater",
        "cooler",
        "thermostat",
        "storage",
        "dialout",
        "camera",
    ):
        expected += [
            trigger(device_id, "source_fault_raised", source),
            trigger(device_id, "source_fault_cleared", source),
        ]
    assert sorted(triggers, key=repr) == sorted(expected, key=repr)
    # The automation editor shows each source by its translated name, not its raw id
    # (the example config's probe and relay ids included).
    strings = json.loads(STRINGS.read_text())["device_automation"]["trigger_subtype"]
    assert {t["subtype"] for t in triggers if "subtype" in t} <= set(strings)


async def test_triggers_of_an_unloaded_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Without a connection only the sources every daemon has are offered."""
    device_id = beerpi_device(hass, init_integration).id
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    triggers = await listed_triggers(hass, device_id)
    assert {t.get("subtype") for t in triggers} == {None, "thermostat", "storage", "dialout"}
    assert await device_trigger.async_get_triggers(hass, "no-such-device") == []


async def test_fault_triggers_fire(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    daemon_client: BeerPiClient,
    service_calls: list[ServiceCall],
) -> None:
    device_id = beerpi_device(hass, init_integration).id
    action = {
        "service": "test.automation",
        "data_template": {
            "what": "{{ trigger.id }} {{ trigger.event.data.type }}",
            "source": "{{ trigger.event.data.source }}",
            "code": "{{ trigger.event.data.code }}",
        },
    }
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: [
                {"trigger": {**trigger(device_id, "fault_raised"), "id": "any"}, "action": action},
                {
                    "trigger": {
                        **trigger(device_id, "source_fault_cleared", "beer"),
                        "id": "beer",
                    },
                    "action": action,
                },
                {
                    "trigger": {
                        **trigger(device_id, "source_fault_raised", "fridge"),
                        "id": "fridge",
                    },
                    "action": action,
                },
            ]
        },
    )

    await daemon_client.simulate(probe="beer", fault="disconnected")
    await wait_until(lambda: len(service_calls) >= 1)
    await daemon_client.simulate(probe="beer", clear=True)
    await wait_until(lambda: len(service_calls) >= 2)
    await hass.async_block_till_done()

    assert [dict(call.data) for call in service_calls] == [
        {"what": "any fault_raised", "source": "beer", "code": "disconnected"},
        {"what": "beer fault_cleared", "source": "beer", "code": "disconnected"},
    ]


@pytest.mark.parametrize(
    ("kind", "subtype"),
    [("source_fault_raised", None), ("fault_cleared", "beer"), ("fault_exploded", None)],
)
async def test_invalid_trigger_config(hass: HomeAssistant, kind: str, subtype: str | None) -> None:
    """A per-source type needs its source, an any-source type takes none; types are known."""
    with pytest.raises((InvalidDeviceAutomationConfig, vol.Invalid)):
        await device_trigger.async_validate_trigger_config(
            hass, trigger("some-device", kind, subtype)
        )


async def test_valid_trigger_config(hass: HomeAssistant) -> None:
    config = trigger("some-device", "source_fault_raised", "beer")
    assert await device_trigger.async_validate_trigger_config(hass, config) == config


@pytest.mark.parametrize(
    ("kind", "subtype", "key"),
    [
        ("source_fault_raised", None, "trigger_needs_source"),
        ("fault_cleared", "beer", "trigger_takes_no_source"),
    ],
)
async def test_a_misconfigured_trigger_says_why_in_words(
    hass: HomeAssistant, kind: str, subtype: str | None, key: str
) -> None:
    with pytest.raises(InvalidDeviceAutomationConfig) as refused:
        await device_trigger.async_validate_trigger_config(
            hass, trigger("some-device", kind, subtype)
        )
    assert refused.value.translation_domain == DOMAIN
    assert refused.value.translation_key == key
    assert refused.value.translation_placeholders == {"type": kind}
