"""Binary sensors: a device-wide problem, and a fault per probe."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BeerPiConfigEntry, BeerPiCoordinator
from .entity import BeerPiEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BeerPiConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data
    async_add_entities([BeerPiProblemSensor(coordinator)])
    known: set[str] = set()

    @callback
    def add_new_probes() -> None:
        probes = [p for p in coordinator.probe_ids() if p not in known]
        known.update(probes)
        if probes:
            async_add_entities(BeerPiProbeFaultSensor(coordinator, p) for p in probes)

    add_new_probes()
    entry.async_on_unload(coordinator.async_add_listener(add_new_probes))


class BeerPiProblemSensor(BeerPiEntity, BinarySensorEntity):
    """On while the daemon reports any fault (probe, relay, thermostat, storage, camera)."""

    _attr_translation_key = "problem"
    _attr_device_class = BinarySensorDeviceClass.PROBLEM

    def __init__(self, coordinator: BeerPiCoordinator) -> None:
        super().__init__(coordinator, "problem")

    @property
    def is_on(self) -> bool:
        return bool(self.coordinator.data.faults)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        # Which faults, so a notification can say what is wrong.
        return {
            "faults": [
                f"{fault.source}: {fault.code or 'unknown'}"
                for fault in self.coordinator.data.faults
            ]
        }


class BeerPiProbeFaultSensor(BeerPiEntity, BinarySensorEntity):
    """On while one probe is in fault (disconnected, CRC error, 85 °C reset, stale...)."""

    _attr_translation_key = "probe_fault"
    _attr_device_class = BinarySensorDeviceClass.PROBLEM
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: BeerPiCoordinator, probe_id: str) -> None:
        super().__init__(coordinator, f"fault_{probe_id}")
        self._probe_id = probe_id
        self._attr_translation_placeholders = {"probe": coordinator.probe_name(probe_id)}

    @property
    def available(self) -> bool:
        return super().available and self._probe_id in self.coordinator.data.probes

    @property
    def is_on(self) -> bool:
        return self.coordinator.data.probes[self._probe_id].fault is not None
