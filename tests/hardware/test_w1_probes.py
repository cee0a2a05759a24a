"""The real w1thermsensor library against a fake sysfs tree of w1_slave files."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from beerpi_protocol import FaultCode
from pi_daemon.hardware.base import ProbeError
from pi_daemon.hardware.w1_probes import (
    W1BusError,
    W1SensorInfo,
    W1ThermProbe,
    import_w1thermsensor,
    list_w1_sensors,
    normalise_sensor_id,
    sensors_not_on_the_bus,
)

BEER = "28-0316a2793aff"
FRIDGE = "28-0417b1a2c3d4"


def _scratchpad(raw: int, crc_ok: bool = True) -> str:
    """The two lines the w1-therm driver writes for a 12-bit reading of ``raw``/16 °C."""
    lsb, msb = raw & 0xFF, (raw >> 8) & 0xFF
    data = f"{lsb:02x} {msb:02x} 4b 46 7f ff 0c 10 1c"
    verdict = "YES" if crc_ok else "NO"
    return f"{data} : crc=1c {verdict}\n{data} t={round(raw * 1000 / 16)}\n"


def _write(bus: Path, sensor_id: str, text: str) -> None:
    device = bus / sensor_id
    device.mkdir(parents=True, exist_ok=True)
    (device / "w1_slave").write_text(text)


@pytest.fixture
def bus(tmp_path: Path) -> Path:
    bus = tmp_path / "devices"
    bus.mkdir()
    (bus / "w1_bus_master1").mkdir()  # the kernel lists the master beside the slaves
    return bus


def test_import_does_not_modprobe(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the variable, importing w1thermsensor here (no bus) would raise.
    monkeypatch.delenv("W1THERMSENSOR_NO_KERNEL_MODULE", raising=False)
    monkeypatch.delitem(sys.modules, "w1thermsensor", raising=False)
    lib = import_w1thermsensor()
    assert os.environ["W1THERMSENSOR_NO_KERNEL_MODULE"] == "1"
    assert Path("/sys/bus/w1/devices") == lib.W1ThermSensor.BASE_DIRECTORY


async def test_good_readings_from_two_probes_on_one_bus(bus: Path) -> None:
    _write(bus, BEER, _scratchpad(0x0172))  # 23.125 °C
    _write(bus, FRIDGE, _scratchpad(0xFF5E))  # -10.125 °C
    beer = W1ThermProbe("beer", BEER, base_dir=bus)
    fridge = W1ThermProbe("fridge", FRIDGE.removeprefix("28-"), base_dir=bus, offset_c=0.5)
    assert (beer.id, fridge.id) == ("beer", "fridge")
    assert fridge.sensor_id == FRIDGE
    assert list(await asyncio.gather(beer.read(), fridge.read())) == [23.125, -9.625]


async def test_crc_failure_is_crc(bus: Path) -> None:
    _write(bus, BEER, _scratchpad(0x0172, crc_ok=False))
    with pytest.raises(ProbeError) as caught:
        await W1ThermProbe("beer", BEER, base_dir=bus).read()
    assert caught.value.code is FaultCode.CRC
    assert "beer" in caught.value.message


async def test_all_zero_scratchpad_is_crc(bus: Path) -> None:
    _write(bus, BEER, "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n")
    with pytest.raises(ProbeError) as caught:
        await W1ThermProbe("beer", BEER, base_dir=bus).read()
    assert caught.value.code is FaultCode.CRC


async def test_reset_value_is_reset_85(bus: Path) -> None:
    _write(bus, BEER, _scratchpad(0x0550))  # 85.0 °C: read before any conversion
    with pytest.raises(ProbeError) as caught:
        await W1ThermProbe("beer", BEER, base_dir=bus).read()
    assert caught.value.code is FaultCode.RESET_85


async def test_garbled_file_is_crc(bus: Path) -> None:
    _write(bus, BEER, "72 01 4b 46 7f ff 0c 10 1c : crc=1c YES\n")
    with pytest.raises(ProbeError) as caught:
        await W1ThermProbe("beer", BEER, base_dir=bus).read()
    assert caught.value.code is FaultCode.CRC


async def test_missing_sensor_is_disconnected_then_heals(bus: Path) -> None:
    probe = W1ThermProbe("beer", BEER, base_dir=bus)  # absent at start-up: no error yet
    with pytest.raises(ProbeError) as caught:
        await probe.read()
    assert caught.value.code is FaultCode.DISCONNECTED
    _write(bus, BEER, _scratchpad(0x0140))  # plugged back in: 20.0 °C
    assert await probe.read() == 20.0


async def test_sensor_unplugged_after_start_is_disconnected(bus: Path) -> None:
    _write(bus, BEER, _scratchpad(0x0140))
    probe = W1ThermProbe("beer", BEER, base_dir=bus)
    assert await probe.read() == 20.0
    (bus / BEER / "w1_slave").unlink()
    (bus / BEER).rmdir()
    with pytest.raises(ProbeError) as caught:
        await probe.read()
    assert caught.value.code is FaultCode.DISCONNECTED


def test_list_sensors(bus: Path) -> None:
    _write(bus, FRIDGE, _scratchpad(0x0140))
    _write(bus, BEER, _scratchpad(0x0140))
    _write(bus, "10-000802b4a1c2", _scratchpad(0x0140))
    (bus / "28-00000000dead").mkdir()  # a half-gone device without w1_slave
    assert list_w1_sensors(bus) == [
        W1SensorInfo("10-000802b4a1c2", "DS18S20"),
        W1SensorInfo(BEER, "DS18B20"),
        W1SensorInfo(FRIDGE, "DS18B20"),
    ]


def test_list_probes_prints_each_sensor_and_says_when_there_are_none(
    bus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`beerpi-daemon --list-probes` (README, Install step 4) on the Pi's bus."""
    from pi_daemon import cli
    from pi_daemon.hardware import w1_probes

    monkeypatch.setattr(w1_probes, "W1_DEVICES_DIR", bus)
    assert cli.main(["--list-probes"]) == 1
    assert "no 1-Wire temperature probes found" in capsys.readouterr().out
    _write(bus, FRIDGE, _scratchpad(0x0140))
    _write(bus, BEER, _scratchpad(0x0140))
    assert cli.main(["--list-probes"]) == 0
    assert capsys.readouterr().out == f"{BEER}\tDS18B20\n{FRIDGE}\tDS18B20\n"
    monkeypatch.setattr(w1_probes, "W1_DEVICES_DIR", bus / "gone")
    assert cli.main(["--list-probes"]) == 1
    assert "dtoverlay=w1-gpio" in capsys.readouterr().err


def test_list_sensors_without_bus_explains(tmp_path: Path) -> None:
    with pytest.raises(W1BusError, match="dtoverlay=w1-gpio"):
        list_w1_sensors(tmp_path / "nothing")


def test_library_absent_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "w1thermsensor", None)
    with pytest.raises(W1BusError, match="not installed"):
        W1ThermProbe("beer", BEER)


@pytest.mark.parametrize(
    ("given", "expected"),
    [(BEER, BEER), ("28-0316A2793AFF", BEER), ("0316a2793aff", BEER), (" 28-0316a2793aff ", BEER)],
)
def test_normalise_sensor_id(given: str, expected: str) -> None:
    assert normalise_sensor_id(given) == expected


@pytest.mark.parametrize("bad", ["", "beer", "28-123", "28_0316a2793aff", "zz-0316a2793aff"])
def test_bad_sensor_id(bad: str) -> None:
    with pytest.raises(ValueError, match="not like"):
        normalise_sensor_id(bad)


def test_unknown_family_is_refused() -> None:
    with pytest.raises(ValueError, match="not a 1-Wire temperature sensor"):
        W1ThermProbe("beer", "ff-0316a2793aff")


def test_a_configured_sensor_missing_from_the_bus_is_named_with_those_found(bus: Path) -> None:
    _write(bus, BEER, _scratchpad(0x0172))
    lines = sensors_not_on_the_bus({"beer": BEER, "fridge": FRIDGE}, bus)
    assert lines == [
        f"probe fridge: sensor {FRIDGE} is not on the 1-Wire bus (found: {BEER}); it reads as"
        " disconnected (relays off) until it is: check the wiring, or sensor_id against"
        " beerpi-daemon --list-probes"
    ]
    assert sensors_not_on_the_bus({"beer": BEER}, bus) == []
    (no_bus,) = sensors_not_on_the_bus({"beer": BEER}, bus / "absent")
    assert no_bus.startswith("no 1-Wire bus at ")
