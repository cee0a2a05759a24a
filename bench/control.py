"""BeerPi's thermostat against a plain ±0.5 °C hysteresis thermostat, on one simulated fortnight.

Both run the same FermenterModel (same seed, fermentation heat, room swings),
read a DS18B20-like probe quantised to 1/16 °C every 10 s, and switch through
the same relay protection (minimum on/off times). The target steps 18 -> 20 °C
at day 7. Run: ``python -m bench.control``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from beerpi_protocol import ThermostatMode
from pi_daemon.control import ControlSettings, ProbeSample, RelayGuard, Thermostat
from pi_daemon.simulation.thermal import FermenterModel, FermenterParams

READ_S = 10.0
DAYS = 14
STEP_AT_S = 7 * 86_400.0
TARGETS_C = (18.0, 20.0)
# Pull-down and the step's transient are judged apart from steady holding.
SETTLE_S = 12 * 3600.0
OVERSHOOT_WINDOW_S = 48 * 3600.0
START = datetime(2026, 3, 1, tzinfo=UTC)
RESULTS = Path(__file__).parent / "results"

# (now_s, target, beer, chamber, heater_on, cooler_on) -> (heater_on, cooler_on) wanted
Controller = Callable[[float, float, float, float, bool, bool], tuple[bool, bool]]


def ds18b20(value_c: float) -> float:
    return round(value_c * 16) / 16


def target_at(t_s: float) -> float:
    return TARGETS_C[0] if t_s < STEP_AT_S else TARGETS_C[1]


def baseline(settings: ControlSettings) -> Controller:
    """A plain Inkbird-style thermostat on the beer probe: ±0.5 °C."""
    band = 0.5

    def control(
        now_s: float, target: float, beer: float, chamber: float, heating: bool, cooling: bool
    ) -> tuple[bool, bool]:
        heat = beer < target + band if heating else beer <= target - band
        cool = beer > target - band if cooling else beer >= target + band
        return heat and not cool, cool

    return control


def beerpi(settings: ControlSettings) -> Controller:
    thermostat = Thermostat(settings, start_s=-1e9)
    thermostat.set_mode(ThermostatMode.HEAT_COOL)

    def control(
        now_s: float, target: float, beer: float, chamber: float, heating: bool, cooling: bool
    ) -> tuple[bool, bool]:
        if target != thermostat.target_c:
            thermostat.set_target(target)
        samples = {
            settings.probe: ProbeSample(beer, None, now_s),
            "fridge": ProbeSample(chamber, None, now_s),
        }
        decision = thermostat.step(
            now_s,
            START + timedelta(seconds=now_s),
            samples,
            {"heater": heating, "cooler": cooling},
        )
        return decision.relays.get("heater", False), decision.relays.get("cooler", False)

    return control


@dataclass
class Result:
    name: str
    rms_error_c: float = 0.0
    max_error_c: float = 0.0
    step_overshoot_c: float = 0.0
    heater_cycles_per_day: float = 0.0
    cooler_cycles_per_day: float = 0.0
    heater_duty: float = 0.0
    cooler_duty: float = 0.0
    trace: list[tuple[float, float, float]] = field(default_factory=list)


def run(name: str, make: Callable[[ControlSettings], Controller]) -> Result:
    settings = ControlSettings()
    model = FermenterModel(FermenterParams(), beer_c=22.0)
    control = make(settings)
    guards = {
        "heater": RelayGuard(settings.heater_timing),
        "cooler": RelayGuard(settings.cooler_timing),
    }
    cycles = {"heater": 0, "cooler": 0}
    on_s = {"heater": 0.0, "cooler": 0.0}
    squares, count, worst, overshoot = 0.0, 0, 0.0, 0.0
    result = Result(name)
    for i in range(int(DAYS * 86_400 / READ_S)):
        now_s = i * READ_S
        target = target_at(now_s)
        heat, cool = control(
            now_s,
            target,
            ds18b20(model.beer_c),
            ds18b20(model.air_c),
            guards["heater"].is_on,
            guards["cooler"].is_on,
        )
        # Offs first, then ons, each through the relay protection.
        for rid, want in sorted({"heater": heat, "cooler": cool}.items(), key=lambda kv: kv[1]):
            guard = guards[rid]
            if want == guard.is_on:
                continue
            if want:
                other = guards["cooler" if rid == "heater" else "heater"]
                if other.is_on or not guard.can_switch(now_s, True)[0]:
                    continue
                cycles[rid] += 1
            elif guard.min_on_left(now_s) > 0:
                continue
            guard.record(now_s, want)
        heater_on, cooler_on = guards["heater"].is_on, guards["cooler"].is_on
        on_s["heater"] += READ_S * heater_on
        on_s["cooler"] += READ_S * cooler_on
        model.advance(READ_S, heater_on=heater_on, cooler_on=cooler_on)
        t_s = now_s + READ_S
        error = model.beer_c - target_at(t_s)
        since_change = t_s if t_s < STEP_AT_S else t_s - STEP_AT_S
        if since_change >= SETTLE_S:
            squares += error * error
            count += 1
            worst = max(worst, abs(error))
        if STEP_AT_S <= t_s < STEP_AT_S + OVERSHOOT_WINDOW_S:
            overshoot = max(overshoot, error)  # the step is upwards
        if i % 30 == 0:
            result.trace.append((t_s / 86_400.0, model.beer_c, target_at(t_s)))
    result.rms_error_c = math.sqrt(squares / count)
    result.max_error_c = worst
    result.step_overshoot_c = overshoot
    result.heater_cycles_per_day = cycles["heater"] / DAYS
    result.cooler_cycles_per_day = cycles["cooler"] / DAYS
    result.heater_duty = on_s["heater"] / (DAYS * 86_400)
    result.cooler_duty = on_s["cooler"] / (DAYS * 86_400)
    return result


def table(results: list[Result]) -> str:
    head = (
        f"{'controller':<22}{'RMS °C':>8}{'max °C':>8}{'step overshoot °C':>19}"
        f"{'heater cyc/day':>16}{'cooler cyc/day':>16}"
    )
    rows = [
        f"{r.name:<22}{r.rms_error_c:>8.3f}{r.max_error_c:>8.3f}{r.step_overshoot_c:>19.3f}"
        f"{r.heater_cycles_per_day:>16.1f}{r.cooler_cycles_per_day:>16.1f}"
        for r in results
    ]
    return "\n".join([head, "-" * len(head), *rows])


def plot(results: list[Result], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 5))
    for r in results:
        ax.plot([p[0] for p in r.trace], [p[1] for p in r.trace], label=r.name, linewidth=0.8)
    first = results[0].trace
    ax.plot([p[0] for p in first], [p[2] for p in first], "k--", label="target", linewidth=1)
    ax.set_xlabel("day")
    ax.set_ylabel("beer °C")
    ax.set_title("14 simulated days, target 18 -> 20 °C at day 7")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    results = [run("beerpi cascade", beerpi), run("hysteresis ±0.5 °C", baseline)]
    print(table(results))
    RESULTS.mkdir(exist_ok=True)
    summary = [{k: v for k, v in asdict(r).items() if k != "trace"} for r in results]
    (RESULTS / "control.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(results, RESULTS / "control.png")
    print(f"wrote {RESULTS / 'control.json'} and {RESULTS / 'control.png'}")


if __name__ == "__main__":
    main()
