"""Writes the simulated camera's videos: H.264 in MP4, which every browser plays.

PyAV's wheels carry their own FFmpeg with libx264, so this needs no system
package and no ``ffmpeg`` program. It is imported by the simulated camera on
its first video only (PyAV is the ``sim`` extra; a Pi never loads it).
Frames are encoded as they come; ``close`` flushes the encoder and writes the
index, moved to the front of the file (``+faststart``) so a browser can start
playing before it has fetched the whole file.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
from PIL import Image


class Mp4Writer:
    """Append Pillow images with ``add_frame``; ``close`` finishes the file."""

    def __init__(self, path: Path, width: int, height: int, fps: float, *, crf: int = 28) -> None:
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError("width and height must be positive and even (4:2:0 video)")
        if not fps > 0:
            raise ValueError("fps must be positive")
        self.width, self.height = width, height
        self.frames = 0
        rate = Fraction(fps).limit_denominator(1000)
        self._container = av.open(
            str(path), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        try:
            stream = self._container.add_stream("libx264", rate=rate)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            # "main" plays in every browser; one thread keeps the daemon's memory small.
            stream.codec_context.options = {"preset": "veryfast", "crf": str(crf)}
            stream.codec_context.profile = "Main"
            stream.codec_context.thread_count = 1
        except BaseException:
            self._container.close()
            raise
        self._stream = stream
        self._time_base = Fraction(1, 1) / rate
        self._closed = False

    def add_frame(self, image: Image.Image) -> None:
        if image.size != (self.width, self.height):
            raise ValueError(f"a frame must be {self.width}x{self.height}, got {image.size}")
        # PyAV's stubs leave from_image untyped; it returns a VideoFrame.
        frame: av.VideoFrame = av.VideoFrame.from_image(image.convert("RGB"))  # type: ignore[no-untyped-call]
        frame.pts = self.frames
        frame.time_base = self._time_base
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
