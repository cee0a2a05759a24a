"""Switches: one per relay (heater, cooler, ...)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchDeviceClass, SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BeerPiConfigEntry, BeerPiCoordinator
from .entity import BeerPiRelayEntity
from .helpers import call_daemon

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BeerPiConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data
    async_add_entities(
        BeerPiRelaySwitch(coordinator, relay.id) for relay in coordinator.device.relays
    )


class BeerPiRelaySwitch(BeerPiRelayEntity, SwitchEntity):
    """Manual control of a relay, for when the thermostat is off.

    The daemon refuses it while its thermostat drives the relay, so it is disabled by
    default; the relay's binary sensor shows its state whoever switched it.
    """

    _attr_translation_key = "relay"
    _attr_device_class = SwitchDeviceClass.SWITCH
    _attr_entity_registry_enabled_default = False

    def __init__(self, coordinator: BeerPiCoordinator, relay_id: str) -> None:
        super().__init__(coordinator, relay_id, f"relay_{relay_id}")

    async def async_turn_on(self, **kwargs: Any) -> None:
        await call_daemon(self.coordinator.client.set_relay(self._relay_id, True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        await call_daemon(self.coordinator.client.set_relay(self._relay_id, False))
