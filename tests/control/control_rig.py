"""A small closed loop for tests: the thermostat driving the thermal model on simulated time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from beerpi_protocol import FaultCode
from pi_daemon.control import ControlDecision, ControlSettings, ProbeSample, Thermostat
from pi_daemon.simulation.thermal import FermenterModel, FermenterParams

START = datetime(2026, 3, 1, tzinfo=UTC)
PERIOD_S = 10.0


def wall(now_s: float) -> datetime:
    return START + timedelta(seconds=now_s)


@dataclass
class Rig:
    """Thermostat + model + relays that obey the decision (offs first)."""

    thermostat: Thermostat
    model: FermenterModel
    now_s: float = 0.0
    relays: dict[str, bool] = field(default_factory=lambda: {"heater": False, "cooler": False})
    switches: list[tuple[float, str, bool]] = field(default_factory=list)
    # Per probe: a forced reading (temperature, error) replacing the model's.
    override: dict[str, tuple[float | None, FaultCode | None]] = field(default_factory=dict)
    # Per probe: the daemon keeps handing this old sample (the probe went silent).
    frozen: dict[str, ProbeSample] = field(default_factory=dict)
    last: ControlDecision | None = None

    def sample(self, probe: str, value: float) -> ProbeSample:
        if probe in self.frozen:
            return self.frozen[probe]
        if probe in self.override:
            temperature, error = self.override[probe]
            return ProbeSample(temperature, error, self.now_s)
        return ProbeSample(round(value * 16) / 16, None, self.now_s)

    def tick(self) -> ControlDecision:
        samples = {
            "beer": self.sample("beer", self.model.beer_c),
            "fridge": self.sample("fridge", self.model.air_c),
        }
        decision = self.thermostat.step(self.now_s, wall(self.now_s), samples, dict(self.relays))
        wanted = dict(self.relays)
        wanted.update(decision.relays)
        for rid in decision.force_off:
            wanted[rid] = False
        for rid, on in sorted(wanted.items(), key=lambda kv: kv[1]):
            if on != self.relays[rid]:
                self.relays[rid] = on
                self.thermostat.record_switch(rid, self.now_s, on)
                self.switches.append((self.now_s, rid, on))
        self.model.advance(
            PERIOD_S, heater_on=self.relays["heater"], cooler_on=self.relays["cooler"]
        )
        self.now_s += PERIOD_S
        self.last = decision
        return decision

    def run(self, seconds: float) -> ControlDecision:
        end = self.now_s + seconds
        decision = self.tick()
        while self.now_s < end:
            decision = self.tick()
        return decision


def make_rig(
    settings: ControlSettings | None = None, *, beer_c: float = 20.0, mode: str = "heat_cool"
) -> Rig:
    thermostat = Thermostat(settings, start_s=0.0)
    thermostat.set_mode(mode)
    return Rig(thermostat, FermenterModel(FermenterParams(), beer_c=beer_c))
