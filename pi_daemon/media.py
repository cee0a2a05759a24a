"""Photos and videos in the data dir, newest kept, oldest pruned."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from beerpi_protocol import MediaInfo
from beerpi_protocol.timestamps import iso

_LOGGER = logging.getLogger(__name__)

_ID = re.compile(r"^(photo|video)-\d{8}T\d{6}Z-[0-9a-f]{6}$")
# What the cameras produce, and all this store lists or serves: JPEG photos and
# H.264 MP4 videos (picamera2 and the simulation alike), which browsers display.
CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".mp4": "video/mp4",
}


@dataclass(frozen=True, slots=True)
class MediaFile:
    id: str
    kind: str
    path: Path
    timestamp: datetime

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.path.suffix, "application/octet-stream")

    def info(self) -> MediaInfo:
        size = self.path.stat().st_size if self.path.exists() else 0
        return MediaInfo(
            id=self.id,
            kind=self.kind,
            url=f"/api/media/{self.id}",
            timestamp=iso(self.timestamp),
            content_type=self.content_type,
            size=size,
        )


class MediaStore:
    def __init__(self, directory: Path, *, keep_photos: int, keep_videos: int) -> None:
        self._dir = directory
        self._keep = {"photo": keep_photos, "video": keep_videos}
        self._dir_failing = False
        self.ensure_dir()

    def ensure_dir(self) -> None:
        """Make the media dir if it is missing; logged when it cannot be made.

        Photos are not worth the beer's control: a card too full for a directory, or a
        file where the directory should be, leaves the daemon starting without them
        (each photo then fails with the reason), and a later photo tries again.
        """
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            log = _LOGGER.debug if self._dir_failing else _LOGGER.error  # once per spell
            log("cannot make the media dir %s: %s; photos cannot be kept", self._dir, err)
            self._dir_failing = True
            return
        self._dir_failing = False

    def new(self, kind: str, suffix: str, now: datetime) -> MediaFile:
        self.ensure_dir()
        media_id = f"{kind}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
        return MediaFile(media_id, kind, self._dir / f"{media_id}{suffix}", now)

    def get(self, media_id: str) -> MediaFile | None:
        """The file for an id, or None; ids are validated so no path can escape the dir."""
        if not _ID.match(media_id):
            return None
        for path in self._dir.glob(f"{media_id}.*"):
            if path.suffix in CONTENT_TYPES and path.stem == media_id:
                stamp = datetime.strptime(media_id.split("-")[1], "%Y%m%dT%H%M%SZ")
                return MediaFile(media_id, media_id.split("-")[0], path, stamp.replace(tzinfo=UTC))
        return None

    def latest(self, kind: str) -> MediaFile | None:
        files = self._list(kind)
        return self.get(files[-1].stem) if files else None

    def _list(self, kind: str) -> list[Path]:
        return sorted(
            p
            for p in self._dir.glob(f"{kind}-*")
            if p.suffix in CONTENT_TYPES and _ID.match(p.stem)
        )

    def prune(self, kind: str) -> None:
        files = self._list(kind)
        for path in files[: max(0, len(files) - self._keep[kind])]:
            path.unlink(missing_ok=True)

    @staticmethod
    def partial_path(media: MediaFile) -> Path:
        """Where a capture is written before it is renamed into place (atomic appearance).

        The suffix stays last so libraries that pick the format from it still work.
        """
        return media.path.with_name(f"{media.id}.part{media.path.suffix}")

    @staticmethod
    def commit(media: MediaFile) -> None:
        MediaStore.partial_path(media).replace(media.path)
