"""Binary sensors: the link, a device-wide problem, a fault per probe and relay, relay state,
whether the running profile is paused."""

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
from .entity import BeerPiEntity, BeerPiRelayEntity
from .helpers import fault_code

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BeerPiConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data
    async_add_entities(
        [
            BeerPiConnectivitySensor(coordinator),
            BeerPiProblemSensor(coordinator),
            BeerPiProfilePausedSensor(coordinator),
        ]
    )
    async_add_entities(
        entity
        for relay in coordinator.device.relays
        for entity in (
            BeerPiRelayStateSensor(coordinator, relay.id),
            BeerPiRelayFaultSensor(coordinator, relay.id),
        )
    )
    known: set[str] = set()

    @callback
    def add_new_probes() -> None:
        probes = [p for p in coordinator.probe_ids() if p not in known]
        known.update(probes)
        if probes:
            async_add_entities(BeerPiProbeFaultSensor(coordinator, p) for p in probes)

    add_new_probes()
    entry.async_on_unload(coordinator.async_add_listener(add_new_probes))


class BeerPiConnectivitySensor(BeerPiEntity, BinarySensorEntity):
    """On while the link to the daemon is up; always available, ``reason`` says why not."""

    _attr_translation_key = "link"
    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: BeerPiCoordinator) -> None:
        super().__init__(coordinator, "link")

    @property
    def available(self) -> bool:
        return True

    @property
    def is_on(self) -> bool:
        return self.coordinator.link_up

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        coordinator = self.coordinator
        return {
            "reason": coordinator.link_status.value,
            "detail": coordinator.link_detail,
            "since": coordinator.link_changed_at.isoformat(),
        }


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
                f"{fault.source}: {fault_code(fault)}" for fault in self.coordinator.data.faults
            ]
        }


class BeerPiProfilePausedSensor(BeerPiEntity, BinarySensorEntity):
    """On while the running profile is paused (beerpi.pause_profile); unknown when none runs."""

    _attr_translation_key = "profile_paused"

    def __init__(self, coordinator: BeerPiCoordinator) -> None:
        super().__init__(coordinator, "profile_paused")

    @property
    def is_on(self) -> bool | None:
        profile = self.coordinator.data.thermostat.profile
        if profile is None or profile.finished:
            return None
        return profile.paused


class BeerPiSourceFaultSensor(BeerPiEntity, BinarySensorEntity):
    """On while one probe or relay is in fault. Detail of "Problem": disabled by default."""

    _attr_device_class = BinarySensorDeviceClass.PROBLEM
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_entity_registry_enabled_default = False

    def __init__(self, coordinator: BeerPiCoordinator, source: str, key: str) -> None:
        super().__init__(coordinator, key)
        self._source = source

    @property
    def is_on(self) -> bool:
        return any(fault.source == self._source for fault in self.coordinator.data.faults)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        codes = [fault_code(f) for f in self.coordinator.data.faults if f.source == self._source]
        return {"codes": codes}


class BeerPiProbeFaultSensor(BeerPiSourceFaultSensor):
    """A probe's fault: disconnected, CRC error, 85 °C reset, stuck, stale..."""

    _attr_translation_key = "probe_fault"

    def __init__(self, coordinator: BeerPiCoordinator, probe_id: str) -> None:
        super().__init__(coordinator, probe_id, f"fault_{probe_id}")
        self._attr_translation_placeholders = {"probe": coordinator.probe_name(probe_id)}

    @property
    def available(self) -> bool:
        return super().available and self._source in self.coordinator.data.probes

    @property
    def is_on(self) -> bool:
        probe = self.coordinator.data.probes[self._source]
        return probe.fault is not None or super().is_on


class BeerPiRelayFaultSensor(BeerPiSourceFaultSensor):
    """A relay's fault: no effect on its probe, maximum run time..."""

    _attr_translation_key = "relay_fault"

    def __init__(self, coordinator: BeerPiCoordinator, relay_id: str) -> None:
        super().__init__(coordinator, relay_id, f"relay_fault_{relay_id}")
        self._attr_translation_placeholders = {"relay": coordinator.relay_name(relay_id)}


class BeerPiRelayStateSensor(BeerPiRelayEntity, BinarySensorEntity):
    """Whether a relay is on, whoever switched it (the thermostat, mostly)."""

    _attr_translation_key = "relay_state"
    _attr_device_class = BinarySensorDeviceClass.RUNNING

    def __init__(self, coordinator: BeerPiCoordinator, relay_id: str) -> None:
        super().__init__(coordinator, relay_id, f"relay_state_{relay_id}")
