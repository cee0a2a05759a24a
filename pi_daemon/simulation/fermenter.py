"""The simulated fermentation chamber: the physics plant, clock and its relays.

The relays are real GpioRelay objects on gpiozero mock pins. Before any pin
changes level, and whenever a probe asks (``sync``), the model is advanced to
the clock's present with the relays' actual states, so heat flows only while
a relay really is on, whatever the clock's speed. A fermenter with one relay
(``heater_id`` or ``cooler_id`` None, as ``heater = ""`` / ``cooler = ""`` in the
config) has no such relay: that side of the plant never runs.
"""

from __future__ import annotations

import threading
from typing import Any

from pi_daemon.clock import Clock
from pi_daemon.hardware.gpio_relays import GpioRelay

from .chamber import ChamberModel
from .pins import SimulationPinFactory


class SimulatedFermenter:
    def __init__(
        self,
        clock: Clock,
        *,
        model: ChamberModel | None = None,
        heater_id: str | None = "heater",
        cooler_id: str | None = "cooler",
        heater_pin: int = 17,
        cooler_pin: int = 27,
        active_high: bool = True,
    ) -> None:
        self.clock = clock
        self.model = model or ChamberModel()
        self.pin_factory = SimulationPinFactory()
        self._lock = threading.RLock()
        # Relays that click but deliver no power (the `simulate` request breaks them).
        self._broken: set[str] = set()
        self._last_s = clock.monotonic()
        self.heater = self._relay(heater_id, heater_pin, active_high)
        self.cooler = self._relay(cooler_id, cooler_pin, active_high)
        # Only now: the relays' start-up writes happen before the model's time starts.
        self.pin_factory.before_change = self.sync

    def _relay(self, relay_id: str | None, pin: int, active_high: bool) -> GpioRelay | None:
        if relay_id is None:
            return None
        return GpioRelay(relay_id, pin, active_high=active_high, pin_factory=self.pin_factory)

    @property
    def relays(self) -> dict[str, GpioRelay]:
        return {r.id: r for r in (self.heater, self.cooler) if r is not None}

    def _powered(self, relay: GpioRelay | None) -> bool:
        return relay is not None and relay.is_on and relay.id not in self._broken

    def sync(self) -> None:
        """Advance the model to the clock's present with the relays as they are."""
        with self._lock:
            now = self.clock.monotonic()
            elapsed = now - self._last_s
            if elapsed > 0:
                self.model.advance(
                    elapsed,
                    heater_on=self._powered(self.heater),
                    cooler_on=self._powered(self.cooler),
                )
                self._last_s = now

    def set_broken(self, relay_id: str, broken: bool) -> None:
        """A broken relay still switches its pin but heats or cools nothing."""
        if relay_id not in self.relays:
            raise KeyError(relay_id)
        with self._lock:
            self.sync()
            if broken:
                self._broken.add(relay_id)
            else:
                self._broken.discard(relay_id)

    @property
    def broken(self) -> frozenset[str]:
        return frozenset(self._broken)

    def snapshot(self) -> dict[str, Any]:
        """The model's state now, to carry on from after a restart."""
        with self._lock:
            self.sync()
            return self.model.state()

    def set_ambient(self, celsius: float | None) -> None:
        """Hold the room at ``celsius`` from now on (None: back to the daily curve)."""
        with self._lock:
            self.sync()
            self.model.ambient_override_c = celsius

    @property
    def beer_c(self) -> float:
        self.sync()
        return self.model.beer_c

    @property
    def air_c(self) -> float:
        self.sync()
        return self.model.air_c

    def close(self) -> None:
        self.sync()
        self.pin_factory.before_change = None
        for relay in self.relays.values():
            relay.close()
