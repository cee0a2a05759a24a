"""Event: a fault raised or cleared on the daemon, for automations."""

from __future__ import annotations

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import EVENT_FAULT_CLEARED, EVENT_FAULT_RAISED
from .coordinator import BeerPiConfigEntry, BeerPiCoordinator
from .entity import BeerPiEntity
from .helpers import fault_code
from .protocol.models import FaultInfo

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BeerPiConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities([BeerPiFaultEvent(entry.runtime_data)])


class BeerPiFaultEvent(BeerPiEntity, EventEntity):
    """Fires ``fault_raised``/``fault_cleared`` with the fault's source and code."""

    _attr_translation_key = "fault"

    def __init__(self, coordinator: BeerPiCoordinator) -> None:
        super().__init__(coordinator, "fault")
        self._attr_event_types = [EVENT_FAULT_RAISED, EVENT_FAULT_CLEARED]

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_fault_listener(self._on_fault))

    @callback
    def _on_fault(self, fault: FaultInfo, active: bool) -> None:
        self._trigger_event(
            EVENT_FAULT_RAISED if active else EVENT_FAULT_CLEARED,
            {
                "source": fault.source,
                "code": fault_code(fault),
                "message": fault.message,
            },
        )
        self.async_write_ha_state()
