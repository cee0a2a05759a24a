"""Base entity of the BeerPi integration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import BeerPiCoordinator
from .helpers import device_info


class BeerPiEntity(CoordinatorEntity[BeerPiCoordinator]):
    """An entity of one daemon; ``key`` makes its unique id.

    The daemon pushes a full snapshot on every read (5 s by default). An entity writes its state
    only when what it shows changes, so an unchanged reading costs the state machine
    and the recorder nothing. While the link is down the entities keep their last
    values for the grace period of the options, then become unavailable.
    """

    _attr_has_entity_name = True

    def __init__(self, coordinator: BeerPiCoordinator, key: str) -> None:
        super().__init__(coordinator)
        self._attr_unique_id = f"{coordinator.device_id}_{key}"
        self._attr_device_info = device_info(coordinator.device)
        self._written: tuple[Any, ...] | None = None

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        # Home Assistant writes this state once the entity is added: the next push
        # writes only if something changed since.
        self._written = self._shown()

    @property
    def available(self) -> bool:
        return self.coordinator.entities_available

    @callback
    def _handle_coordinator_update(self) -> None:
        self.async_write_if_changed()

    @callback
    def async_write_if_changed(self) -> None:
        """Write the state unless it is the one written last."""
        shown = self._shown()
        if shown != self._written:
            self._written = shown
            self.async_write_ha_state()

    def _shown(self) -> tuple[Any, ...]:
        """What the state machine would get: availability, state and attributes."""
        if not self.available:
            return (False,)
        return (True, self.state, self.state_attributes, self._compared_attributes())

    def _compared_attributes(self) -> Mapping[str, Any] | None:
        """Extra attributes whose change alone is worth a state write (all, by default)."""
        return self.extra_state_attributes


class BeerPiRelayEntity(BeerPiEntity):
    """An entity of one relay (the switch, the state sensor): on as the relay is, whoever
    switched it, which ``controlled_by`` names; available while the daemon reports it."""

    def __init__(self, coordinator: BeerPiCoordinator, relay_id: str, key: str) -> None:
        super().__init__(coordinator, key)
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
