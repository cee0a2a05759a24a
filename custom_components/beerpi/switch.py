"""Switches: one per relay (heater, cooler, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.switch import SwitchDeviceClass, SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BeerPiConfigEntry, BeerPiCoordinator
from .entity import BeerPiEntity
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


class BeerPiRelaySwitch(BeerPiEntity, SwitchEntity):
    """Manual control of a relay, for when the thermostat is off.

    The daemon refuses it while its thermostat drives the relay, so it is disabled by
    default; the relay's binary sensor shows its state whoever switched it.
    """

    _attr_translation_key = "relay"
    _attr_device_class = SwitchDeviceClass.SWITCH
    _attr_entity_registry_enabled_default = False

    def __init__(self, coordinator: BeerPiCoordinator, relay_id: str) -> None:
        super().__init__(coordinator, f"relay_{relay_id}")
        self._relay_id = relay_id
        self._attr_translation_placeholders = {"relay": coordinator.relay_name(relay_id)}

    @property
    def available(self) -> bool:
        return super().available and self._relay_id in self.coordinator.data.relays

    @property
    def is_on(self) -> bool:
        return self.coordinator.data.relays[self._relay_id].on

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        # Shown so users see why a switch refuses to toggle.
        return {"controlled_by": self.coordinator.data.relays[self._relay_id].controlled_by}

    async def async_turn_on(self, **kwargs: Any) -> None:
        await call_daemon(self.coordinator.client.set_relay(self._relay_id, True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        await call_daemon(self.coordinator.client.set_relay(self._relay_id, False))
