"""A small writer of Motion-JPEG AVI files (RIFF, one video stream, an idx1 index).

The simulated camera's videos must be real files that any player opens
without extra system packages; MJPEG in AVI needs only JPEG frames (Pillow)
and a few fixed headers. Frames go to disk as they come; the header, whose
sizes and frame count are known only at the end, is rewritten on close.
"""

from __future__ import annotations

import struct
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

_AVIF_HASINDEX = 0x10
_AVIIF_KEYFRAME = 0x10
_FRAME_CHUNK = b"00dc"  # stream 0, compressed video


def _chunk(fourcc: bytes, payload: bytes) -> bytes:
    pad = b"\0" if len(payload) % 2 else b""
    return fourcc + struct.pack("<I", len(payload)) + payload + pad


def _list(kind: bytes, payload: bytes) -> bytes:
    return b"LIST" + struct.pack("<I", 4 + len(payload)) + kind + payload


class MjpegAviWriter:
    """Append JPEG frames with ``add_frame``; ``close`` finishes the file."""

    def __init__(self, path: Path, width: int, height: int, fps: float) -> None:
        if not fps > 0:
            raise ValueError("fps must be positive")
        self.width, self.height, self.fps = width, height, fps
        self.frames = 0
        self._max_frame = 0
        self._index: list[tuple[int, int]] = []  # (offset from 'movi', size)
        self._file: BinaryIO = Path(path).open("wb")  # noqa: SIM115 (closed in close())
        self._file.write(self._header(movi_bytes=0, riff_bytes=0))
        self._movi_start = self._file.tell() - 4  # offsets count from the 'movi' fourcc

    def add_frame(self, jpeg: bytes) -> None:
        if not jpeg.startswith(b"\xff\xd8"):
            raise ValueError("a frame must be a JPEG")
        self._index.append((self._file.tell() - self._movi_start, len(jpeg)))
        self._file.write(_chunk(_FRAME_CHUNK, jpeg))
        self.frames += 1
        self._max_frame = max(self._max_frame, len(jpeg))

    def close(self) -> None:
        if self._file.closed:
            return
        movi_end = self._file.tell()
        entries = b"".join(
            struct.pack("<4sIII", _FRAME_CHUNK, _AVIIF_KEYFRAME, offset, size)
            for offset, size in self._index
        )
        self._file.write(_chunk(b"idx1", entries))
        riff_bytes = self._file.tell() - 8
        self._file.seek(0)
        self._file.write(
            self._header(movi_bytes=movi_end - self._movi_start, riff_bytes=riff_bytes)
        )
        self._file.close()

    def __enter__(self) -> MjpegAviWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _header(self, *, movi_bytes: int, riff_bytes: int) -> bytes:
        """Everything before the first frame; same length whatever the numbers."""
        w, h = self.width, self.height
        rate_scale = 1000
        avih = struct.pack(
            "<14I",
            round(1_000_000 / self.fps),  # microseconds per frame
            round(self._max_frame * self.fps),  # max bytes per second
            0,  # padding granularity
            _AVIF_HASINDEX,
            self.frames,
            0,  # initial frames
            1,  # streams
            self._max_frame,  # suggested buffer size
            w,
            h,
            0,
            0,
            0,
            0,
        )
        strh = struct.pack(
            "<4s4sIHHIIIIIIII4h",
            b"vids",
            b"MJPG",
            0,  # flags
            0,  # priority
            0,  # language
            0,  # initial frames
            rate_scale,
            round(self.fps * rate_scale),  # rate / scale = frames per second
            0,  # start
            self.frames,  # length in frames
            self._max_frame,
            0xFFFFFFFF,  # quality: default
            0,  # sample size: varies
            0,
            0,
            w,
            h,
        )
        strf = struct.pack(
            "<IiiHH4sIiiII", 40, w, h, 1, 24, b"MJPG", w * h * 3, 0, 0, 0, 0
        )  # BITMAPINFOHEADER
        hdrl = _list(
            b"hdrl",
            _chunk(b"avih", avih) + _list(b"strl", _chunk(b"strh", strh) + _chunk(b"strf", strf)),
        )
        movi_head = b"LIST" + struct.pack("<I", movi_bytes) + b"movi"
        return b"RIFF" + struct.pack("<I", riff_bytes) + b"AVI " + hdrl + movi_head
