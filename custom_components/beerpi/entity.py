"""Base entity of the BeerPi integration."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import BeerPiCoordinator
from .protocol.models import DeviceInfo as BeerPiDeviceInfo


def device_info(device: BeerPiDeviceInfo) -> DeviceInfo:
    """Home Assistant's device, from the daemon's ``device`` event."""
    return DeviceInfo(
        identifiers={(DOMAIN, device.id)},
        manufacturer=device.manufacturer,
        model=device.model or None,
        name=device.name,
        sw_version=device.sw_version or None,
    )


class BeerPiEntity(CoordinatorEntity[BeerPiCoordinator]):
    """An entity of one daemon; ``key`` makes its unique id."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: BeerPiCoordinator, key: str) -> None:
        super().__init__(coordinator)
        self._attr_unique_id = f"{coordinator.device_id}_{key}"
        self._attr_device_info = device_info(coordinator.device)
