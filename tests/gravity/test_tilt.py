"""A Tilt's Bluetooth LE advert, decoded from bytes laid out as a Tilt sends them."""

from __future__ import annotations

import asyncio
import logging
import sys
import types
from datetime import UTC, datetime
from typing import Any

import pytest

from pi_daemon.config import ConfigError, TiltSection, load_config
from pi_daemon.gravity.ble import tilt_reading
from pi_daemon.gravity.tilt import APPLE_COMPANY_ID, decode_tilt, encode_tilt

# A red Tilt at 68 °F and SG 1.050: iBeacon type 02 15, the red UUID
# A495BB10-C5B1-4B44-B512-1370F02D74DE, major 0x0044 (68), minor 0x041A (1050), tx -59.
RED = bytes.fromhex("0215a495bb10c5b14b44b5121370f02d74de0044041ac5")
# A pink Tilt Pro at 68.5 °F and SG 1.0123: major 685, minor 10123.
PINK_PRO = bytes.fromhex("0215a495bb80c5b14b44b5121370f02d74de02ad278bc5")
NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def test_a_red_tilt() -> None:
    advert = decode_tilt(0x004C, RED)
    assert advert is not None
    assert (advert.colour, advert.sg, advert.temperature_f, advert.pro) == ("red", 1.05, 68, False)
    assert advert.temperature_c == pytest.approx(20.0)


def test_a_tilt_pro_has_ten_times_the_resolution() -> None:
    advert = decode_tilt(APPLE_COMPANY_ID, PINK_PRO)
    assert advert is not None
    assert (advert.colour, advert.pro) == ("pink", True)
    assert advert.sg == pytest.approx(1.0123)
    assert advert.temperature_f == pytest.approx(68.5)


def test_encode_writes_what_decode_reads() -> None:
    assert encode_tilt("red", 1.050, 68) == RED
    assert encode_tilt("pink", 1.0123, 68.5, pro=True) == PINK_PRO


@pytest.mark.parametrize(
    ("company", "data"),
    [
        (0x0059, RED),  # another company's data
        (0x004C, RED[:-1]),  # short
        (0x004C, RED + b"\x00"),  # long: a stated length is not trusted
        (0x004C, b"\x02\x16" + RED[2:]),  # not an iBeacon
        (0x004C, RED[:5] + b"\x90" + RED[6:]),  # no such colour
        (0x004C, RED[:10] + b"\x00" + RED[11:]),  # another beacon's UUID
        (0x004C, b""),
    ],
)
def test_anything_else_is_not_a_tilt(company: int, data: bytes) -> None:
    assert decode_tilt(company, data) is None


def test_the_configured_tilt_is_calibrated_and_others_ignored() -> None:
    red = TiltSection(colour="red", id="tilt-red", sg_offset=-0.002, temperature_offset_c=0.5)
    reading = tilt_reading(red, APPLE_COMPANY_ID, RED, NOW)
    assert reading is not None
    assert (reading.id, reading.sg, reading.temperature_c) == ("tilt-red", 1.048, 20.5)
    assert reading.at == "2026-11-27T18:00:00.000Z"
    assert tilt_reading(red, APPLE_COMPANY_ID, PINK_PRO, NOW) is None


def test_a_gravity_out_of_range_is_dropped() -> None:
    red = TiltSection(colour="red", id="tilt-red")
    assert tilt_reading(red, APPLE_COMPANY_ID, encode_tilt("red", 1.250, 68), NOW) is None
    assert tilt_reading(red, APPLE_COMPANY_ID, encode_tilt("red", 0.500, 68), NOW) is None


def test_tilts_in_the_config() -> None:
    config = load_config(
        None, {"simulate": True, "tilts": [{"colour": "red"}, {"colour": "blue", "id": "fv2"}]}
    )
    assert [(t.colour, t.id) for t in config.tilts] == [("red", "tilt-red"), ("blue", "fv2")]
    assert load_config(None, {"simulate": True}).tilts == ()
    with pytest.raises(ConfigError) as caught:
        load_config(
            None,
            {
                "simulate": True,
                "tilts": [{"colour": "teal"}],
            },
        )
    text = str(caught.value)
    assert "tilts[0].colour: should be one of 'red', 'green'," in text
    with pytest.raises(ConfigError, match=r"tilts\[0\]\.colour: is required"):
        load_config(None, {"simulate": True, "tilts": [{"id": "x"}]})
    with pytest.raises(ConfigError, match=r"tilts\[1\]\.colour: duplicate colour 'red'"):
        load_config(
            None, {"simulate": True, "tilts": [{"colour": "red"}, {"colour": "red", "id": "b"}]}
        )
    with pytest.raises(ConfigError, match=r"tilts\[0\]\.sg_offset: should be"):
        load_config(None, {"simulate": True, "tilts": [{"colour": "red", "sg_offset": 0.5}]})


class _Advert:
    def __init__(self, data: dict[int, bytes]) -> None:
        self.manufacturer_data = data


def test_the_listener_hands_the_loop_the_latest_of_each_tilt() -> None:
    from pi_daemon.clock import ManualClock
    from pi_daemon.gravity.ble import TiltListener

    clock = ManualClock(NOW)
    listener = TiltListener([TiltSection(colour="red", id="tilt-red")], clock)
    listener._seen(None, _Advert({APPLE_COMPANY_ID: encode_tilt("red", 1.040, 66)}))
    clock.advance(5)
    listener._seen(None, _Advert({APPLE_COMPANY_ID: RED, 0x0006: b"\x01\x02"}))
    listener._seen(None, _Advert({APPLE_COMPANY_ID: PINK_PRO}))  # not ours
    heard = listener.poll(clock.now())
    assert [(r.id, r.sg, r.at) for r in heard] == [("tilt-red", 1.05, "2026-11-27T18:00:05.000Z")]
    assert listener.poll(clock.now()) == []


class _FlakyScanner:
    """bleak's BleakScanner with no adapter for its first ``failures`` starts."""

    failures = 2
    started = 0

    def __init__(self, detection_callback: Any) -> None:
        self.seen = detection_callback

    async def start(self) -> None:
        type(self).started += 1
        if type(self).started <= type(self).failures:
            raise OSError("No Bluetooth adapters found.")
        self.seen(None, _Advert({APPLE_COMPANY_ID: RED}))

    async def stop(self) -> None:
        pass


async def test_without_an_adapter_the_listener_says_so_once_and_retries_every_minute(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """README: "Without an adapter the daemon says so in its log, retries every minute"."""
    from pi_daemon.clock import ManualClock
    from pi_daemon.gravity.ble import TiltListener

    monkeypatch.setitem(sys.modules, "bleak", types.SimpleNamespace(BleakScanner=_FlakyScanner))
    monkeypatch.setattr(_FlakyScanner, "started", 0)
    real_sleep = asyncio.sleep
    waits: list[float] = []

    async def sleep(delay: float, result: Any = None) -> Any:
        waits.append(delay)
        return await real_sleep(0, result)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    clock = ManualClock(NOW)
    listener = TiltListener([TiltSection(colour="red", id="tilt-red")], clock)
    caplog.set_level(logging.DEBUG, logger="pi_daemon.gravity.ble")
    await listener.start()
    try:
        for _ in range(100):
            if heard := listener.poll(clock.now()):
                break
            await real_sleep(0.01)
        assert [r.id for r in heard] == ["tilt-red"]  # the adapter came back: it listens
    finally:
        await listener.close()
    assert waits == [60.0, 60.0]  # a try a minute while there is no adapter
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        "Tilt: cannot scan Bluetooth LE (No Bluetooth adapters found.); trying again every 60 s"
    ]
