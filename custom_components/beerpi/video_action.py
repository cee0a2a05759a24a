"""The ``record_video`` action: a camera video, saved where Home Assistant can use it.

The daemon answers ``record_video`` at once and pushes a ``photo`` event when the
file is ready. Its URL needs a signature that lasts a minute, so a notification
cannot link to it. With ``filename`` the action waits for the video, downloads
it (capped, checked to be an MP4) and writes it to that path, as Home
Assistant's own ``camera.record`` does; ``/media/...`` then shows it in the
media browser and a notification can attach it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import IO

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util.json import JsonValueType

from .const import ATTR_CONFIG_ENTRY_ID, ATTR_SECONDS, DOMAIN, SERVICE_RECORD_VIDEO
from .helpers import call_daemon
from .protocol.client import BeerPiClient
from .protocol.const import MAX_VIDEO_BYTES
from .protocol.errors import BeerPiRequestError
from .protocol.models import FaultInfo, MediaInfo
from .services import _coordinator
from .validation import vol

ATTR_FILENAME = "filename"
VIDEO_CONTENT_TYPE = "video/mp4"
# How long the recording may take beyond its length before the action gives up: a Pi
# writes H.264 as it records; the simulated camera draws its frames on a busy machine.
_SLACK_FACTOR = 3
_SLACK_S = 60.0
# The whole download, whatever its size (each read also has the request timeout).
_DOWNLOAD_S = 600.0
# Bytes 4-7 of every MP4 (ISO base media) file: its first box, "ftyp".
_MP4_BRAND_AT = slice(4, 8)
_MP4_BRAND = b"ftyp"

RECORD_VIDEO_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_SECONDS): vol.All(vol.Coerce(float), vol.Range(min=1, max=600)),
        vol.Optional(ATTR_FILENAME): vol.All(cv.string, vol.Length(min=1)),
    }
)


class _VideoWatch:
    """The daemon's pushes about videos, heard from before the request is sent."""

    def __init__(self, client: BeerPiClient) -> None:
        self._ready: set[str] = set()
        self._failure: str | None = None
        self._changed = asyncio.Event()
        self._removers = [
            client.add_media_listener(self._on_media),
            client.add_fault_listener(self._on_fault),
        ]

    @callback
    def _on_media(self, media: MediaInfo) -> None:
        if media.kind == "video":
            self._ready.add(media.id)
            self._changed.set()

    @callback
    def _on_fault(self, fault: FaultInfo) -> None:
        # The daemon raises its camera fault when a recording fails (and clears it on
        # the next that works); the camera is locked while one records, so it is ours.
        if fault.source == "camera" and fault.active:
            self._failure = fault.message or "the recording failed"
            self._changed.set()

    async def wait(self, media_id: str) -> None:
        """Until ``media_id`` is ready; raises HomeAssistantError if the recording failed."""
        while media_id not in self._ready:
            if self._failure is not None:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="video_failed",
                    translation_placeholders={"message": self._failure},
                )
            self._changed.clear()
            await self._changed.wait()

    def close(self) -> None:
        for remove in self._removers:
            remove()


async def _allowed_path(hass: HomeAssistant, filename: str) -> Path:
    """The absolute file path to write, if Home Assistant lets integrations write there."""
    path = Path(filename)

    def refusal() -> str | None:
        # Blocking: Home Assistant's check resolves the path on disk.
        if filename.endswith("/") or path.is_dir():
            return "path_is_folder"
        if not path.is_absolute() or not hass.config.is_allowed_path(filename):
            return "path_not_allowed"
        return None

    if key := await hass.async_add_executor_job(refusal):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={"filename": filename},
        )
    return path


async def _save_video(
    hass: HomeAssistant, client: BeerPiClient, video: MediaInfo, path: Path
) -> int:
    """Download ``video`` to ``path`` (whole or not at all); the bytes written."""
    if not video.url.startswith("/"):
        raise _not_a_video(f"{video.id} has no path on the daemon ({video.url[:60]!r})")
    partial = path.with_name(f".{path.name}.part")
    head = b""
    written = 0
    out: IO[bytes] | None = None

    async def write(chunk: bytes) -> None:
        nonlocal head, written, out
        if out is None:
            head += chunk
            if len(head) < _MP4_BRAND_AT.stop:
                return
            if head[_MP4_BRAND_AT] != _MP4_BRAND:
                raise _not_a_video(f"{video.id} does not start as an MP4 file")
            out = await hass.async_add_executor_job(_open_new, partial)
            chunk, head = head, b""
        await hass.async_add_executor_job(out.write, chunk)
        written += len(chunk)

    try:
        try:
            content_type = await call_daemon(
                client.download(video.url, write, max_bytes=MAX_VIDEO_BYTES, total_s=_DOWNLOAD_S)
            )
            if out is None:
                raise _not_a_video(f"{video.id} is empty")
            if content_type != VIDEO_CONTENT_TYPE:
                raise _not_a_video(f"{video.id} came as {content_type[:60]!r}")
            await hass.async_add_executor_job(out.close)
            await hass.async_add_executor_job(os.replace, partial, path)
        finally:
            if out is not None and not out.closed:
                await hass.async_add_executor_job(out.close)
    except OSError as err:
        await hass.async_add_executor_job(_remove, partial)
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="cannot_write",
            translation_placeholders={"filename": str(path), "error": str(err)},
        ) from err
    except BaseException:
        await hass.async_add_executor_job(_remove, partial)
        raise
    return written


def _open_new(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


def _remove(path: Path) -> None:
    # The folder that refused the video may refuse this too; the error to tell is the first.
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _not_a_video(message: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="not_a_video",
        translation_placeholders={"message": message},
    )


async def _async_record_video(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call)
    seconds: float = call.data[ATTR_SECONDS]
    filename: str | None = call.data.get(ATTR_FILENAME)
    # Checked before anything records: a refused path costs the brewer nothing.
    path = None if filename is None else await _allowed_path(call.hass, filename)
    client = coordinator.client
    watch = _VideoWatch(client)
    try:
        video = await call_daemon(client.record_video(seconds))
        response: dict[str, JsonValueType] = {
            "id": video.id,
            "url": video.url,
            "timestamp": video.timestamp,
        }
        if path is None:
            return response
        limit_s = seconds * _SLACK_FACTOR + _SLACK_S
        try:
            async with asyncio.timeout(limit_s):
                await watch.wait(video.id)
        except TimeoutError:
            # Its push may have been lost to a reconnect: the file may be there all the same.
            pass
        try:
            size = await _save_video(call.hass, client, video, path)
        except HomeAssistantError as err:
            if isinstance(err.__cause__, BeerPiRequestError) and err.__cause__.code == "not_found":
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="video_not_ready",
                    translation_placeholders={"seconds": f"{limit_s:g}"},
                ) from err
            raise
    finally:
        watch.close()
    response[ATTR_FILENAME] = str(path)
    response["size"] = size
    return response


@callback
def async_setup_video_action(hass: HomeAssistant) -> None:
    hass.services.async_register(
        DOMAIN,
        SERVICE_RECORD_VIDEO,
        _async_record_video,
        schema=RECORD_VIDEO_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
