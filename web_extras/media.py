"""Photo and video files, fetched from the daemon once and then served from disk."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from pathlib import Path

from .errors import bad_request
from .hub import DeviceHub

# Ids become file names: nothing that could climb out of the cache directory.
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_id(value: str, what: str) -> str:
    if not _SAFE.match(value):
        raise bad_request(f"{what} {value!r} is not a valid id")
    return value


class MediaCache:
    def __init__(self, root: Path, hub: DeviceHub) -> None:
        self._root = root
        self._hub = hub
        self._locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)

    async def get(self, device: str, media_id: str) -> tuple[Path, str]:
        """The cached file and its content type, fetching it on the first request."""
        folder = self._root / check_id(device, "device") / check_id(media_id, "media id")
        data_file, type_file = folder / "data", folder / "content-type"
        async with self._locks[(device, media_id)]:
            if type_file.exists():
                return data_file, type_file.read_text().strip()
            data, content_type = await self._hub.fetch(device, f"/api/media/{media_id}")
            await asyncio.to_thread(_write, folder, data, content_type)
        return data_file, content_type


def _write(folder: Path, data: bytes, content_type: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "data.tmp"
    tmp.write_bytes(data)
    tmp.replace(folder / "data")
    # Written last: its presence means the file is complete.
    (folder / "content-type").write_text(content_type)
