"""Draws the simulated camera's view: a fermenter in a fridge, with the readings.

Not a photograph, but a real image that says what the daemon knows (caption
lines such as "beer 19.8 °C"), when, and that it is SIMULATED, so a demo
photo can never be mistaken for the brewer's actual beer.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import datetime
from functools import cache

from PIL import Image, ImageDraw, ImageFont

_BACKGROUND = (28, 32, 38)
_FRIDGE = (215, 220, 226)
_GLASS = (170, 190, 200)
_BEER = (196, 122, 28)
_FOAM = (244, 236, 214)
_TEXT = (236, 240, 244)
_ALERT = (214, 48, 49)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def _font(size: int) -> Font:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the small bitmap font
        return ImageFont.load_default()


def render(
    size: tuple[int, int],
    caption: Sequence[str],
    moment: datetime,
    frame: int = 0,
) -> Image.Image:
    """The scene at ``moment``; ``frame`` moves the bubbles in the airlock and beer."""
    width, height = size
    image = Image.new("RGB", size, _BACKGROUND)
    draw = ImageDraw.Draw(image)
    unit = min(width, height) / 480

    # The fridge, door open, on the left half.
    fx0, fy0, fx1, fy1 = 0.05 * width, 0.06 * height, 0.48 * width, 0.94 * height
    draw.rounded_rectangle((fx0, fy0, fx1, fy1), radius=12 * unit, outline=_FRIDGE, width=4)
    draw.line(
        (fx0 + 8 * unit, fy0 + 0.62 * (fy1 - fy0), fx1 - 8 * unit, fy0 + 0.62 * (fy1 - fy0)),
        fill=_FRIDGE,
        width=2,
    )

    # The fermenter: a bucket standing on the shelf, beer up to the krausen line.
    bx0, bx1 = fx0 + 0.18 * (fx1 - fx0), fx1 - 0.18 * (fx1 - fx0)
    by0, by1 = fy0 + 0.22 * (fy1 - fy0), fy0 + 0.62 * (fy1 - fy0) - 2
    draw.rounded_rectangle((bx0, by0, bx1, by1), radius=8 * unit, fill=_GLASS)
    level = by0 + 0.22 * (by1 - by0)
    draw.rectangle((bx0 + 4, level, bx1 - 4, by1 - 4), fill=_BEER)
    draw.rectangle((bx0 + 4, level - 6 * unit, bx1 - 4, level + 4 * unit), fill=_FOAM)
    for i in range(7):
        x = bx0 + (i + 0.5) * (bx1 - bx0) / 7
        y = by1 - ((frame * 7 + i * 37) % 100) / 100 * (by1 - level - 10 * unit) - 8 * unit
        r = (2 + i % 3) * unit
        draw.ellipse((x - r, y - r, x + r, y + r), outline=_FOAM)

    # Airlock on the lid, its water bobbing with the frame.
    ax = (bx0 + bx1) / 2
    draw.rectangle((ax - 4 * unit, by0 - 34 * unit, ax + 4 * unit, by0), fill=_GLASS)
    bob = 4 * unit * math.sin(frame * 1.3)
    draw.ellipse(
        (ax - 9 * unit, by0 - 44 * unit + bob, ax + 9 * unit, by0 - 26 * unit + bob),
        outline=_FOAM,
        width=2,
    )

    # The readings, the time, and the unmistakable stamp.
    x = 0.53 * width
    y = 0.08 * height
    draw.text((x, y), "BeerPi", font=_font(round(34 * unit)), fill=_TEXT)
    y += 52 * unit
    line_font = _font(round(22 * unit))
    for line in caption:
        draw.text((x, y), line, font=line_font, fill=_TEXT)
        y += 30 * unit
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    draw.text((x, 0.80 * height), stamp, font=_font(round(16 * unit)), fill=_TEXT)
    draw.text((x, 0.86 * height), "SIMULATED", font=_font(round(30 * unit)), fill=_ALERT)
    return image


def to_jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
