"""A Tilt hydrometer's Bluetooth LE advert, decoded: a pure function, no radio.

A Tilt is an iBeacon. Its advert's manufacturer data, under Apple's company id
0x004C, is 23 bytes: 0x02 0x15 (iBeacon, 21 bytes follow), a 16-byte UUID whose
second byte says the colour (A495BB10-C5B1-4B44-B512-1370F02D74DE is red, ...20
green up to ...80 pink), then ``major`` (the temperature in °F) and ``minor``
(the specific gravity times 1000), both big-endian, and a signed transmit power.
A Tilt Pro sends ten times the resolution: °F x 10 and SG x 10000; its minor is
above 5000 where a Tilt's never is (SG 1.200 is 1200), which is how it is told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

APPLE_COMPANY_ID: Final = 0x004C
_IBEACON_PREFIX: Final = b"\x02\x15"
_PAYLOAD_LEN: Final = 23
# The UUID with the colour's byte (index 3) left out: A495BB?0-C5B1-4B44-B512-1370F02D74DE.
_UUID_HEAD: Final = bytes.fromhex("a495bb")
_UUID_TAIL: Final = bytes.fromhex("c5b14b44b5121370f02d74de")
COLOURS: Final = {
    0x10: "red",
    0x20: "green",
    0x30: "black",
    0x40: "purple",
    0x50: "orange",
    0x60: "blue",
    0x70: "yellow",
    0x80: "pink",
}
_PRO_MINOR: Final = 5000


@dataclass(frozen=True, slots=True)
class TiltAdvert:
    colour: str
    sg: float
    temperature_f: float
    pro: bool

    @property
    def temperature_c(self) -> float:
        return (self.temperature_f - 32.0) / 1.8


def decode_tilt(company_id: int, data: bytes) -> TiltAdvert | None:
    """The Tilt reading in one manufacturer-data entry, None when it is not a Tilt's."""
    if company_id != APPLE_COMPANY_ID or len(data) != _PAYLOAD_LEN:
        return None
    if data[:2] != _IBEACON_PREFIX or data[2:5] != _UUID_HEAD or data[6:18] != _UUID_TAIL:
        return None
    colour = COLOURS.get(data[5])
    if colour is None:
        return None
    major = int.from_bytes(data[18:20], "big")
    minor = int.from_bytes(data[20:22], "big")
    pro = minor > _PRO_MINOR
    scale = 10.0 if pro else 1.0
    return TiltAdvert(
        colour=colour,
        sg=minor / (1000.0 * scale),
        temperature_f=major / scale,
        pro=pro,
    )


def encode_tilt(colour: str, sg: float, temperature_f: float, *, pro: bool = False) -> bytes:
    """The manufacturer data a Tilt of ``colour`` would send (tests, the simulation)."""
    code = next(key for key, name in COLOURS.items() if name == colour)
    scale = 10 if pro else 1
    major = round(temperature_f * scale)
    minor = round(sg * 1000 * scale)
    return (
        _IBEACON_PREFIX
        + _UUID_HEAD
        + bytes([code])
        + _UUID_TAIL
        + major.to_bytes(2, "big")
        + minor.to_bytes(2, "big")
        + (-59).to_bytes(1, "big", signed=True)
    )
