"""The BeerPi integration: a fermentation monitor/controller on a Raspberry Pi."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN, PLATFORMS
from .coordinator import (
    BeerPiConfigEntry,
    BeerPiCoordinator,
    async_delete_wrong_device_issue,
    issue_ids,
)
from .gravity_action import async_setup_gravity_action
from .protocol.client import BeerPiClient
from .services import async_setup_services
from .video_action import async_setup_video_action

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions once, whatever entries exist."""
    async_setup_services(hass)
    async_setup_gravity_action(hass)
    async_setup_video_action(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: BeerPiConfigEntry) -> bool:
    """Connect to the daemon (it must prove it is the entry's device), then set up entities."""
    client = BeerPiClient(
        entry.data[CONF_HOST],
        entry.data[CONF_PORT],
        entry.data[CONF_TOKEN],
        device_id=entry.unique_id,
        session=async_get_clientsession(hass),
    )
    coordinator = BeerPiCoordinator(hass, entry, client)
    # Connects and registers the device (fault events carry its id from the start).
    await coordinator.async_connect()
    entry.runtime_data = coordinator
    _async_remove_gone_hardware(hass, entry, coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


# An entity of one relay or probe, by platform: its unique id's key (after the device
# id) with the relay's or probe's id in place of {}.
_RELAY_KEYS = {
    Platform.SWITCH: ("relay_{}",),
    Platform.BINARY_SENSOR: ("relay_state_{}", "relay_fault_{}"),
    Platform.SENSOR: ("{}_run_time", "{}_run_time_today"),
}
_PROBE_KEYS = {Platform.BINARY_SENSOR: ("fault_{}",), Platform.SENSOR: ("temperature_{}",)}


def _part_id(key: str, patterns: tuple[str, ...]) -> str | None:
    for pattern in patterns:
        before, after = pattern.split("{}")
        if key.startswith(before) and key.endswith(after) and len(key) > len(before + after):
            return key[len(before) : len(key) - len(after)]
    return None


@callback
def _async_remove_gone_hardware(
    hass: HomeAssistant, entry: BeerPiConfigEntry, coordinator: BeerPiCoordinator
) -> None:
    """Remove the entities of relays and probes the daemon no longer has.

    A daemon.toml that drops a relay (heater = "" for a fridge alone) or the air probe
    makes the daemon announce fewer; the entities built for them would otherwise stay
    in the registry, unavailable for ever. A probe that only the state shows (and not
    now) loses its entity too; it comes back with the probe.
    """
    relays = {relay.id for relay in coordinator.device.relays}
    probes = set(coordinator.probe_ids())
    prefix = f"{coordinator.device_id}_"
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if not entity.unique_id.startswith(prefix):
            continue
        key = entity.unique_id.removeprefix(prefix)
        for known, keys in ((relays, _RELAY_KEYS), (probes, _PROBE_KEYS)):
            part = _part_id(key, keys.get(Platform(entity.domain), ()))
            if part is not None and part not in known:
                registry.async_remove(entity.entity_id)
                break


async def async_unload_entry(hass: HomeAssistant, entry: BeerPiConfigEntry) -> bool:
    """Unload the platforms; the link closes through ``entry.async_on_unload``."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: BeerPiConfigEntry) -> None:
    """A removed entry leaves no repair issue behind."""
    async_delete_wrong_device_issue(hass, entry)
    for issue_id in issue_ids(entry.entry_id):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
