"""Photo and video files, fetched from the daemon once and then served from disk.

A file comes over the device's own authenticated link (``get_media``, in
pieces), whichever way it is linked, and is written to disk piece by piece:
its size is counted as it arrives (never taken from the device's word) and
the transfer stops with a clear error past ``max_bytes``. Only the types a
BeerPi daemon produces are kept, and the first bytes must look like that type
(a JPEG starts with FF D8 FF), so a device cannot have the service serve a
page of its choosing. Any reader may ask for any id: a file's folder is made
only once the device sends one, and nothing is kept of an id it has no file for.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from beerpi_protocol.const import MEDIA_CHUNK_BYTES
from beerpi_protocol.errors import InvalidArgument
from beerpi_protocol.requests import GetMedia

from .errors import ApiError, bad_request
from .hub import DeviceHub
from .sanitize import ALL_MEDIA_TYPES

_LOGGER = logging.getLogger(__name__)

# Ids become file names and headers: nothing that could climb out of the cache
# directory, and matched whole (a "$" let "v1\n" through, into a header that raised).
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# What the first bytes of each type BeerPi produces look like.
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "video/mp4": (),  # checked by "ftyp" at offset 4
}


def check_id(value: str, what: str) -> str:
    if not _SAFE.fullmatch(value):
        raise bad_request(f"{what} {value!r} is not a valid id")
    return value


def looks_like(content_type: str, head: bytes) -> bool:
    """True when ``head`` (the file's first bytes) fits ``content_type``."""
    if content_type == "video/mp4":
        return head[4:8] == b"ftyp"
    return any(head.startswith(magic) for magic in _MAGIC.get(content_type, ()))


def bad_media(message: str) -> ApiError:
    """The device sent media the service will not serve (its fault: 502)."""
    return ApiError(502, "bad_media", message)


class MediaCache:
    def __init__(self, root: Path, hub: DeviceHub, *, max_bytes: int = 256 * 2**20) -> None:
        self._root = root
        self._hub = hub
        self._max_bytes = max_bytes
        # One lock per file being asked for, with how many requests hold or wait for
        # it: dropped with the last, so ids asked for once (any reader may) are not kept.
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def _locked(self, key: tuple[str, str]) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users > 1:
                self._locks[key] = (lock, users - 1)
            else:
                del self._locks[key]

    async def get(self, device: str, media_id: str) -> tuple[Path, str]:
        """The cached file and its content type, fetching it on the first request."""
        folder = self._root / check_id(device, "device") / check_id(media_id, "media id")
        data_file, type_file = folder / "data", folder / "content-type"
        async with self._locked((device, media_id)):
            if type_file.exists():
                content_type = type_file.read_text().strip()
                if content_type in ALL_MEDIA_TYPES:
                    return data_file, content_type
                # Cached by an older version that trusted the device: fetch it again.
            content_type = await self._fetch(device, media_id, folder)
        return data_file, content_type

    async def _fetch(self, device: str, media_id: str, folder: Path) -> str:
        """Fetch into ``folder``, made once the device sends a file; none is left if it fails."""
        try:
            content_type = await self._stream(device, media_id, folder)
            await asyncio.to_thread(_finish, folder, content_type)
        except BaseException:
            await asyncio.to_thread(_discard, folder)
            raise
        return content_type

    async def _stream(self, device: str, media_id: str, folder: Path) -> str:
        """Write the file to ``folder``'s data.tmp piece by piece; its checked content type."""
        offset = 0
        content_type = ""
        out: BinaryIO | None = None  # opened once the first piece is checked
        try:
            while True:
                try:
                    request = GetMedia(id=media_id, offset=offset)
                except InvalidArgument as err:
                    raise bad_request(err.message) from None
                answer = await self._hub.call(device, request.NAME, request.to_dict())
                data, kind = answer.get("data"), answer.get("content_type")
                if not isinstance(data, str) or not isinstance(kind, str):
                    raise bad_media(f"{device} answered get_media without data")
                if offset == 0:
                    if kind not in ALL_MEDIA_TYPES:
                        raise bad_media(
                            f"{device} sent media of type {kind[:60]!r}, which BeerPi never makes"
                        )
                    content_type = kind
                elif kind != content_type:
                    raise bad_media(f"{device} changed the media type mid-way")
                if len(data) > 2 * MEDIA_CHUNK_BYTES:  # base64 of one piece is ~1.34x
                    raise bad_media(f"{device} sent a piece larger than asked for")
                try:
                    chunk = base64.b64decode(data, validate=True)
                except (binascii.Error, ValueError):
                    raise bad_media(f"{device} sent a piece that is not base64") from None
                if offset == 0 and not looks_like(content_type, chunk[:16]):
                    raise bad_media(f"{device} sent a file that is not a {content_type} file")
                offset += len(chunk)
                if offset > self._max_bytes:
                    _LOGGER.warning(
                        "%s: media %s passed %d bytes; stopped", device, media_id, self._max_bytes
                    )
                    raise ApiError(
                        502,
                        "media_too_large",
                        f"the {content_type} file from {device} is larger than "
                        f"{self._max_bytes} bytes (max_media_bytes)",
                    )
                if out is None:  # the first piece, checked: now there is a file to keep
                    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
                    out = (folder / "data.tmp").open("wb")
                await asyncio.to_thread(out.write, chunk)
                if answer.get("eof") is True:
                    return content_type
                if not chunk:
                    raise bad_media(f"{device} sent an empty piece before the end")
        finally:
            if out is not None:
                out.close()


def _discard(folder: Path) -> None:
    """What a failed fetch left: its partial file, and its folder if that is empty now."""
    with contextlib.suppress(FileNotFoundError):
        (folder / "data.tmp").unlink()
    with contextlib.suppress(OSError):  # not there, or holding an earlier file
        folder.rmdir()


def _finish(folder: Path, content_type: str) -> None:
    (folder / "data.tmp").replace(folder / "data")
    # Written last: its presence means the file is complete.
    (folder / "content-type").write_text(content_type)
