"""The BeerPi integration: a fermentation monitor/controller on a Raspberry Pi."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
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
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: BeerPiConfigEntry) -> bool:
    """Unload the platforms; the link closes through ``entry.async_on_unload``."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: BeerPiConfigEntry) -> None:
    """A removed entry leaves no repair issue behind."""
    async_delete_wrong_device_issue(hass, entry)
    for issue_id in issue_ids(entry.entry_id):
        ir.async_delete_issue(hass, DOMAIN, issue_id)
