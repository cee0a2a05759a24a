"""Button: take a photo now."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
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
    if coordinator.device.camera:
        async_add_entities([BeerPiTakePhotoButton(coordinator)])


class BeerPiTakePhotoButton(BeerPiEntity, ButtonEntity):
    """The camera entity shows the photo once the daemon has it."""

    _attr_translation_key = "take_photo"

    def __init__(self, coordinator: BeerPiCoordinator) -> None:
        super().__init__(coordinator, "take_photo")

    async def async_press(self) -> None:
        photo = await call_daemon(self.coordinator.client.take_photo())
        self.coordinator.set_latest_photo(photo)
