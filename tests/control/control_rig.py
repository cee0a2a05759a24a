"""A small closed loop for tests: the thermostat driving the thermal model on simulated time.

Its decisions go through the real relay gate, as in the daemon: the safety
holds first, then the thermostat's wishes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from beerpi_protocol import FaultCode
from pi_daemon.control import ControlDecision, ControlSettings, ProbeSample, Thermostat
from pi_daemon.safety import Cause, RelayGate, Switch
from pi_daemon.safety.supervisor import HOLDER
from pi_daemon.simulation.thermal import FermenterModel, FermenterParams

START = datetime(2026, 3, 1, tzinfo=UTC)
PERIOD_S = 10.0


def wall(now_s: float) -> datetime:
    return START + timedelta(seconds=now_s)


class FakeRelay:
    """A relay channel in memory (implements ``Relay``)."""

    def __init__(self, relay_id: str) -> None:
        self._id = relay_id
        self._on = False

    @property
    def id(self) -> str:
        return self._id

    @property
    def is_on(self) -> bool:
        return self._on

    def on(self) -> None:
        self._on = True

    def off(self) -> None:
        self._on = False

    def close(self) -> None:
        self._on = False


@dataclass
class Rig:
    """Thermostat + gate + model; ``switches`` lists every relay change."""

    thermostat: Thermostat
    model: FermenterModel
    gate: RelayGate
    now_s: float = 0.0
    switches: list[tuple[float, str, bool]] = field(default_factory=list)
    changes: list[Switch] = field(default_factory=list)
    # Per probe: a forced reading (temperature, error) replacing the model's.
    override: dict[str, tuple[float | None, FaultCode | None]] = field(default_factory=dict)
    # Per probe: the daemon keeps handing this old sample (the probe went silent).
    frozen: dict[str, ProbeSample] = field(default_factory=dict)
    # Relays that click but deliver no power.
    broken: set[str] = field(default_factory=set)
    last: ControlDecision | None = None

    def __post_init__(self) -> None:
        self.gate.listeners.append(self._record)

    def _record(self, change: Switch) -> None:
        self.changes.append(change)
        self.switches.append((change.at_s, change.relay, change.on))

    @property
    def relays(self) -> dict[str, bool]:
        return self.gate.states()

    def sample(self, probe: str, value: float) -> ProbeSample:
        if probe in self.frozen:
            return self.frozen[probe]
        if probe in self.override:
            temperature, error = self.override[probe]
            return ProbeSample(temperature, error, self.now_s)
        return ProbeSample(round(value * 16) / 16, None, self.now_s)

    def by_hand(self, relay: str, on: bool) -> object:
        return self.gate.switch(relay, on, self.now_s, Cause.MANUAL)

    def tick(self) -> ControlDecision:
        samples = {
            "beer": self.sample("beer", self.model.beer_c),
            "fridge": self.sample("fridge", self.model.air_c),
        }
        decision = self.thermostat.step(self.now_s, wall(self.now_s), samples, self.gate.states())
        self.gate.hold(HOLDER, decision.holds, self.now_s)
        self.gate.apply(decision.relays, self.now_s, Cause.CONTROL, decision.reason)
        relays = self.relays
        self.model.advance(
            PERIOD_S,
            heater_on=relays["heater"] and "heater" not in self.broken,
            cooler_on=relays["cooler"] and "cooler" not in self.broken,
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
    relays = {rid: FakeRelay(rid) for rid in ("heater", "cooler")}
    made: list[Rig] = []
    gate = RelayGate(relays, thermostat.rules, lambda: made[0].now_s)
    made.append(Rig(thermostat, FermenterModel(FermenterParams(), beer_c=beer_c), gate))
    return made[0]
