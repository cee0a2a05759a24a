"""Simulated DS18B20 probes that read the fermenter model, with injectable faults."""

from __future__ import annotations

import random
from typing import Literal

from beerpi_protocol import FaultCode
from pi_daemon.hardware.base import ProbeError
from pi_daemon.safety.limits import DS18B20_RESET_C

from .fermenter import SimulatedFermenter

# A DS18B20 at 12-bit resolution reports multiples of 1/16 °C.
RESOLUTION_C = 1 / 16
INJECTABLE = frozenset({FaultCode.DISCONNECTED, FaultCode.CRC, FaultCode.RESET_85, FaultCode.STUCK})


def quantise(celsius: float) -> float:
    return round(celsius / RESOLUTION_C) * RESOLUTION_C


class SimulatedProbe:
    """A probe in the beer (thermowell) or in the chamber air; implements ``Probe``.

    Faults behave as the real thing would, as seen by the daemon: ``disconnected``
    and ``crc`` raise ProbeError; ``reset_85`` returns exactly 85.0 (the
    supervisor must recognise the value itself, as with a chip the library does
    not check); ``stuck`` repeats the last value, as a probe out of the beer would.
    """

    def __init__(
        self,
        id: str,
        fermenter: SimulatedFermenter,
        source: Literal["beer", "air"] = "beer",
        *,
        noise_c: float = 0.03,
        conversion_s: float = 0.75,
        seed: int | str | None = None,
    ) -> None:
        if source not in ("beer", "air"):
            raise ValueError(f"source must be 'beer' or 'air', not {source!r}")
        self._id = id
        self._fermenter = fermenter
        self._source = source
        self._noise_c = noise_c
        # The DS18B20's 12-bit conversion time, in the fermenter clock's seconds.
        self._conversion_s = conversion_s
        self._rng = random.Random(id if seed is None else seed)
        self._fault: FaultCode | None = None
        self._last: float | None = None

    @property
    def id(self) -> str:
        return self._id

    @property
    def source(self) -> str:
        return self._source

    @property
    def fault(self) -> FaultCode | None:
        return self._fault

    def inject(self, fault: str | None) -> None:
        """Make the next reads fail as ``fault`` does (None clears it)."""
        if fault is None:
            self._fault = None
            return
        code = FaultCode.parse(fault)
        if code not in INJECTABLE:
            names = ", ".join(sorted(INJECTABLE))
            raise ValueError(f"cannot inject {fault!r}; one of: {names}")
        self._fault = code

    async def read(self) -> float:
        if self._conversion_s > 0:
            await self._fermenter.clock.sleep(self._conversion_s)
        return self.read_now()

    def read_now(self) -> float:
        """The reading at this instant, without the conversion delay."""
        fault = self._fault
        if fault in (FaultCode.DISCONNECTED, FaultCode.CRC):
            raise ProbeError(fault, f"probe {self._id}: simulated {fault}")
        if fault is FaultCode.RESET_85:
            return DS18B20_RESET_C
        if fault is FaultCode.STUCK and self._last is not None:
            return self._last
        true_c = self._fermenter.beer_c if self._source == "beer" else self._fermenter.air_c
        self._last = quantise(true_c + self._rng.gauss(0.0, self._noise_c))
        return self._last

    def close(self) -> None:
        pass
