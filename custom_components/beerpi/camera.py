"""Camera: the daemon's latest photo (a still, not a stream)."""

from __future__ import annotations

from homeassistant.components.camera import Camera
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BeerPiConfigEntry, BeerPiCoordinator
from .entity import BeerPiEntity
from .helpers import call_daemon

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BeerPiConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data
    if coordinator.device.camera:
        async_add_entities([BeerPiCamera(coordinator)])


class BeerPiCamera(BeerPiEntity, Camera):
    """Shows the last photo the daemon took; ``take_photo`` refreshes it."""

    _attr_translation_key = "camera"

    def __init__(self, coordinator: BeerPiCoordinator) -> None:
        super().__init__(coordinator, "camera")
        Camera.__init__(self)
        # Photos are immutable on the daemon: fetch each one once.
        self._image_id: str | None = None
        self._image: bytes | None = None

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        photo = self.coordinator.latest_photo
        if photo is None or not photo.url:
            return None
        if photo.id != self._image_id:
            self._image, content_type = await call_daemon(self.coordinator.client.fetch(photo.url))
            self._image_id = photo.id
            self.content_type = content_type or photo.content_type
        return self._image
