"""DS18B20 probes on the 1-Wire bus, read through w1thermsensor.

Several probes share one bus; each is named by the config (``beer``,
``fridge``) and found by its 1-Wire id (``28-0316a2793aff``). The library is
imported on first use, with ``W1THERMSENSOR_NO_KERNEL_MODULE=1`` unless the
caller asks for modprobe, because importing it otherwise runs ``modprobe`` and
raises when the bus is absent: the daemon must start without it.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from beerpi_protocol import FaultCode
from pi_daemon.safety.limits import DS18B20_RESET_C

from .base import ProbeError

# Where the kernel's w1-therm driver exposes the sensors (the library's default too).
W1_DEVICES_DIR = Path("/sys/bus/w1/devices")
DS18B20_FAMILY = "28"

_SENSOR_ID = re.compile(r"^(?:(?P<family>[0-9a-f]{2})-)?(?P<serial>[0-9a-f]{12})$")
# What ``--init-config`` writes when it finds no probe on the bus: no chip has it.
PLACEHOLDER_SENSOR_ID = "28-000000000000"


class W1BusError(Exception):
    """The 1-Wire bus or the w1thermsensor library is not usable on this machine."""


@dataclass(frozen=True, slots=True)
class W1SensorInfo:
    """A sensor present on the bus: its full id (for the config) and its chip."""

    sensor_id: str
    kind: str


def normalise_sensor_id(sensor_id: str) -> str:
    """``28-0316A2793AFF`` or ``0316a2793aff`` → ``28-0316a2793aff``; ValueError if malformed."""
    match = _SENSOR_ID.match(sensor_id.strip().lower())
    if match is None:
        raise ValueError(
            f"1-Wire sensor id {sensor_id!r} is not like 28-0316a2793aff "
            "(family, dash, 12 hex digits)"
        )
    return f"{match['family'] or DS18B20_FAMILY}-{match['serial']}"


def import_w1thermsensor(*, load_kernel_module: bool = False) -> ModuleType:
    """Import w1thermsensor without its import-time modprobe (unless asked for)."""
    if not load_kernel_module:
        os.environ.setdefault("W1THERMSENSOR_NO_KERNEL_MODULE", "1")
    try:
        return importlib.import_module("w1thermsensor")
    except ImportError as exc:
        raise W1BusError("w1thermsensor is not installed (pip install w1thermsensor)") from exc
    except Exception as exc:  # KernelModuleLoadError, raised while importing
        raise W1BusError(f"cannot load the 1-Wire kernel modules: {exc}") from exc


def _sensor_class(lib: ModuleType, base_dir: Path | None) -> Any:
    """The library's sensor class, pointed at ``base_dir`` (a fake sysfs tree in tests)."""
    if base_dir is None:
        return lib.W1ThermSensor
    # A subclass, not a patched global, so two buses (or tests) never interfere.
    return type("BeerPiW1ThermSensor", (lib.W1ThermSensor,), {"BASE_DIRECTORY": Path(base_dir)})


def list_w1_sensors(
    base_dir: Path | None = None, *, load_kernel_module: bool = False
) -> list[W1SensorInfo]:
    """Temperature sensors present on the bus, sorted by id (for ``--list-probes``).

    Blocking (a directory listing); raises W1BusError when there is no bus at all,
    usually because 1-Wire is not enabled in /boot/firmware/config.txt.
    """
    lib = import_w1thermsensor(load_kernel_module=load_kernel_module)
    directory = Path(base_dir) if base_dir is not None else W1_DEVICES_DIR
    if not directory.is_dir():
        raise W1BusError(
            f"no 1-Wire bus at {directory}: add dtoverlay=w1-gpio to "
            "/boot/firmware/config.txt and reboot"
        )
    kinds = {f"{member.value:02x}": member.name for member in lib.Sensor}
    found = []
    for entry in directory.iterdir():
        match = _SENSOR_ID.match(entry.name)
        if match and match["family"] in kinds and (entry / "w1_slave").exists():
            found.append(W1SensorInfo(entry.name, kinds[match["family"]]))
    return sorted(found, key=lambda info: info.sensor_id)


class W1ThermProbe:
    """One DS18B20 (or kin) on the 1-Wire bus; implements ``Probe``.

    A sensor missing at start-up is not an error here: every read looks for it
    again and reports ``disconnected`` until it appears, so a loose plug heals.
    """

    def __init__(
        self,
        id: str,
        sensor_id: str,
        *,
        offset_c: float = 0.0,
        base_dir: Path | None = None,
        load_kernel_module: bool = False,
    ) -> None:
        self._id = id
        self._sensor_id = normalise_sensor_id(sensor_id)
        self._offset_c = offset_c
        self._lib = import_w1thermsensor(load_kernel_module=load_kernel_module)
        self._sensor_class = _sensor_class(self._lib, base_dir)
        family, self._serial = self._sensor_id.split("-", 1)
        try:
            self._kind = self._lib.Sensor(int(family, 16))
        except ValueError:
            raise ValueError(f"{sensor_id!r} is not a 1-Wire temperature sensor") from None
        self._sensor: Any = None

    @property
    def id(self) -> str:
        return self._id

    @property
    def sensor_id(self) -> str:
        return self._sensor_id

    async def read(self) -> float:
        # The kernel driver blocks for the conversion (~0.75 s at 12 bits).
        return await asyncio.to_thread(self.read_blocking)

    def read_blocking(self) -> float:
        """Degrees Celsius, offset applied; raises ProbeError with the fault's code."""
        lib = self._lib
        try:
            value = float(self._open().get_temperature())
        except lib.ResetValueError as exc:
            raise self._fault(FaultCode.RESET_85, exc) from exc
        except lib.SensorNotReadyError as exc:  # the CRC line said NO, or all-zero bytes
            raise self._fault(FaultCode.CRC, exc) from exc
        except (lib.NoSensorFoundError, OSError) as exc:
            self._sensor = None
            raise self._fault(FaultCode.DISCONNECTED, exc) from exc
        except (lib.W1ThermSensorError, ValueError, IndexError) as exc:  # a garbled file
            raise self._fault(FaultCode.CRC, exc) from exc
        # The library checks the reset value only for 12-bit chips; check every kind.
        # A DS18B20 read before any conversion reports this: a power or wiring fault.
        if value == DS18B20_RESET_C:
            raise self._fault(FaultCode.RESET_85, f"sensor {self._sensor_id} reads 85.0 °C")
        return value + self._offset_c

    def close(self) -> None:
        self._sensor = None

    def _open(self) -> Any:
        if self._sensor is None:
            # The library raises NoSensorFoundError here when the device is absent.
            self._sensor = self._sensor_class(self._kind, self._serial)
        return self._sensor

    def _fault(self, code: FaultCode, cause: object) -> ProbeError:
        return ProbeError(code, f"probe {self._id} ({self._sensor_id}): {cause}")


def sensors_not_on_the_bus(sensor_ids: dict[str, str], base_dir: Path | None = None) -> list[str]:
    """A line for each configured sensor (probe id → sensor id) the bus does not list.

    The daemon starts all the same (each read looks again, so a loose plug heals), but
    a typo in ``sensor_id`` would otherwise show only as a probe fault after start.
    """
    try:
        present = [info.sensor_id for info in list_w1_sensors(base_dir)]
    except W1BusError as err:
        return [f"{err}; every probe reads as disconnected (relays off) until it is there"]
    found = ", ".join(present) or "none"
    return [
        f"probe {probe}: sensor {sensor} is not on the 1-Wire bus (found: {found}); it reads "
        "as disconnected (relays off) until it is: check the wiring, or sensor_id against "
        "beerpi-daemon --list-probes"
        for probe, sensor in sensor_ids.items()
        if sensor not in present
    ]
