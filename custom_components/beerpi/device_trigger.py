"""Device triggers: a fault raised or cleared on a BeerPi, from any source or from one."""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol
from homeassistant.components.device_automation import (
    DEVICE_TRIGGER_BASE_SCHEMA,
    InvalidDeviceAutomationConfig,
)
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_EVENT_DATA,
    CONF_PLATFORM,
    CONF_TYPE,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from .const import (
    ATTR_CODE,
    ATTR_SOURCE,
    BEERPI_EVENT,
    DOMAIN,
    EVENT_FAULT_CLEARED,
    EVENT_FAULT_RAISED,
    FAULT_CODES,
    UNKNOWN_FAULT_CODE,
)
from .coordinator import BeerPiCoordinator

CONF_SUBTYPE: Final = "subtype"
# Optional: only faults with this code (e.g. "no_effect": a relay that heats or cools nothing).
CONF_CODE: Final = ATTR_CODE
CODES: Final = (*FAULT_CODES, UNKNOWN_FAULT_CODE)

# Any source: the event type as is. One source (named in the subtype): a "source_" prefix,
# so each has its own translated sentence.
SOURCE_PREFIX: Final = "source_"
ANY_SOURCE_TYPES: Final = (EVENT_FAULT_RAISED, EVENT_FAULT_CLEARED)
ONE_SOURCE_TYPES: Final = tuple(SOURCE_PREFIX + t for t in ANY_SOURCE_TYPES)
# Fault sources that are not probes or relays (docs/protocol.md, FaultInfo.source).
# "dialout": the link to a web service the daemon connects out to (its `link` fault);
# the daemon does not announce whether it dials out, so it is always offered.
DEVICE_SOURCES: Final = ("thermostat", "storage", "dialout")

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_TYPE): vol.In(ANY_SOURCE_TYPES + ONE_SOURCE_TYPES),
        vol.Optional(CONF_SUBTYPE): str,
        vol.Optional(CONF_CODE): vol.In(CODES),
    }
)


async def async_validate_trigger_config(hass: HomeAssistant, config: ConfigType) -> ConfigType:
    """A per-source trigger names its source; an any-source one does not."""
    config = TRIGGER_SCHEMA(config)
    if (config[CONF_TYPE] in ONE_SOURCE_TYPES) != (CONF_SUBTYPE in config):
        key = "trigger_needs_source" if CONF_SUBTYPE not in config else "trigger_takes_no_source"
        raise InvalidDeviceAutomationConfig(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={"type": config[CONF_TYPE]},
        )
    return config


def _coordinator(hass: HomeAssistant, device_id: str) -> BeerPiCoordinator | None:
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED and entry.runtime_data.ha_device_id == device_id:
            coordinator: BeerPiCoordinator = entry.runtime_data
            return coordinator
    return None


def fault_sources(coordinator: BeerPiCoordinator | None) -> list[str]:
    """Everything the daemon may report a fault on: probes, relays, thermostat, storage,
    its dial-out link, camera."""
    if coordinator is None:  # not loaded: only what every daemon has
        return list(DEVICE_SOURCES)
    relays = [relay.id for relay in coordinator.device.relays]
    camera = ["camera"] if coordinator.device.camera else []
    return [*coordinator.probe_ids(), *relays, *DEVICE_SOURCES, *camera]


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, Any]]:
    """Fault raised/cleared from any source, then the same for each known source."""
    if dr.async_get(hass).async_get(device_id) is None:
        return []
    base = {CONF_PLATFORM: "device", CONF_DOMAIN: DOMAIN, CONF_DEVICE_ID: device_id}
    triggers: list[dict[str, Any]] = [{**base, CONF_TYPE: kind} for kind in ANY_SOURCE_TYPES]
    triggers += [
        {**base, CONF_TYPE: kind, CONF_SUBTYPE: source}
        for source in fault_sources(_coordinator(hass, device_id))
        for kind in ONE_SOURCE_TYPES
    ]
    return triggers


async def async_get_trigger_capabilities(
    hass: HomeAssistant, config: ConfigType
) -> dict[str, vol.Schema]:
    """Every fault trigger may be narrowed to one fault code."""
    code = SelectSelector(
        SelectSelectorConfig(
            options=list(CODES), translation_key="fault_code", mode=SelectSelectorMode.DROPDOWN
        )
    )
    return {"extra_fields": vol.Schema({vol.Optional(CONF_CODE): code})}


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Listen for the integration's ``beerpi_event`` of this device (and source)."""
    kind: str = config[CONF_TYPE]
    event_data: dict[str, str] = {
        CONF_DEVICE_ID: config[CONF_DEVICE_ID],
        CONF_TYPE: kind.removeprefix(SOURCE_PREFIX),
    }
    if CONF_SUBTYPE in config:
        event_data[ATTR_SOURCE] = config[CONF_SUBTYPE]
    if CONF_CODE in config:
        event_data[ATTR_CODE] = config[CONF_CODE]
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: "event",
            event_trigger.CONF_EVENT_TYPE: BEERPI_EVENT,
            CONF_EVENT_DATA: event_data,
        }
    )
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )
