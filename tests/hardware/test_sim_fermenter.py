"""The simulated fermenter and its probes: real GpioRelay on mock pins heating a model."""

from __future__ import annotations

from pathlib import Path

import pytest

from beerpi_protocol import FaultCode
from pi_daemon.clock import ManualClock
from pi_daemon.config import load_config
from pi_daemon.hardware.base import Probe, ProbeError, Relay
from pi_daemon.hardware.factory import build_hardware
from pi_daemon.simulation.chamber import ChamberModel
from pi_daemon.simulation.fermenter import SimulatedFermenter
from pi_daemon.simulation.probes import SimulatedProbe, quantise

HOUR = 3600.0


def _fermenter(clock: ManualClock) -> SimulatedFermenter:
    fermenter = SimulatedFermenter(clock)
    fermenter.set_ambient(20.0)
    return fermenter


async def _three_hours(relay: str | None) -> tuple[float, float]:
    clock = ManualClock()
    fermenter = _fermenter(clock)
    beer = SimulatedProbe("beer", fermenter, "beer", noise_c=0)
    air = SimulatedProbe("fridge", fermenter, "air", noise_c=0)
    if relay is not None:
        fermenter.relays[relay].on()
    clock.advance(3 * HOUR)
    return await beer.read(), await air.read()


async def test_heater_heats_and_cooler_cools_through_the_probes() -> None:
    idle_beer, idle_air = await _three_hours(None)
    heated_beer, heated_air = await _three_hours("heater")
    cooled_beer, cooled_air = await _three_hours("cooler")
    assert cooled_air < idle_air - 5 < idle_air + 5 < heated_air
    assert cooled_beer < idle_beer - 0.5 < idle_beer + 0.5 < heated_beer


def test_relays_are_real_gpio_relays_on_mock_pins_and_start_off() -> None:
    fermenter = SimulatedFermenter(ManualClock(), heater_pin=5, cooler_pin=6, active_high=False)
    heater: Relay = fermenter.heater
    assert set(fermenter.relays) == {"heater", "cooler"}
    assert not heater.is_on
    assert not fermenter.cooler.is_on
    heater.on()
    assert fermenter.pin_factory.pin(5).state is False  # active-low board: on is low
    fermenter.close()
    assert fermenter.pin_factory.pin(5).state is True
    assert not heater.is_on


def test_model_sees_each_relay_change_when_it_happens() -> None:
    clock = ManualClock()
    fermenter = _fermenter(clock)
    reference = ChamberModel()
    reference.ambient_override_c = 20.0
    fermenter.heater.on()
    clock.advance(HOUR)
    fermenter.heater.off()  # no sync asked for: the pin change itself syncs
    clock.advance(HOUR)
    fermenter.sync()
    reference.advance(HOUR, heater_on=True, cooler_on=False)
    reference.advance(HOUR, heater_on=False, cooler_on=False)
    assert fermenter.model.beer_c == reference.beer_c
    assert fermenter.model.air_c == reference.air_c
    assert fermenter.model.elapsed_s == 2 * HOUR


def test_set_ambient_applies_from_now() -> None:
    clock = ManualClock()
    fermenter = SimulatedFermenter(clock)
    fermenter.set_ambient(35.0)
    clock.advance(6 * HOUR)
    assert fermenter.air_c > 25.0
    fermenter.set_ambient(None)
    assert fermenter.model.ambient_override_c is None


async def test_readings_are_quantised_to_a_sixteenth() -> None:
    clock = ManualClock()
    probe: Probe = SimulatedProbe("beer", _fermenter(clock), seed=3)
    readings = []
    for _ in range(50):
        clock.advance(60)
        readings.append(await probe.read())
    assert all((value * 16).is_integer() for value in readings)
    assert all(18.0 < value < 22.0 for value in readings)
    assert quantise(20.03) == 20.0
    assert quantise(20.04) == 20.0625
    assert quantise(-0.05) == -0.0625


async def test_read_takes_a_conversion_time_of_the_clock() -> None:
    clock = ManualClock()
    await SimulatedProbe("beer", _fermenter(clock), conversion_s=0.75).read()
    assert clock.monotonic() == 0.75


@pytest.mark.parametrize("fault", ["disconnected", "crc"])
async def test_injected_failures_raise(fault: str) -> None:
    probe = SimulatedProbe("beer", _fermenter(ManualClock()))
    probe.inject(fault)
    assert probe.fault == fault
    with pytest.raises(ProbeError) as caught:
        await probe.read()
    assert caught.value.code is FaultCode(fault)
    probe.inject(None)
    assert 18.0 < await probe.read() < 22.0


async def test_reset_85_returns_the_value_itself() -> None:
    probe = SimulatedProbe("beer", _fermenter(ManualClock()))
    probe.inject(FaultCode.RESET_85)
    assert await probe.read() == 85.0


async def test_stuck_repeats_the_last_value() -> None:
    clock = ManualClock()
    fermenter = _fermenter(clock)
    probe = SimulatedProbe("fridge", fermenter, "air", noise_c=0)
    before = await probe.read()
    probe.inject("stuck")
    fermenter.heater.on()
    clock.advance(2 * HOUR)
    assert await probe.read() == before
    probe.inject(None)
    assert await probe.read() > before + 5


@pytest.mark.parametrize("bad", ["stale", "melted", ""])
def test_unknown_fault_is_refused(bad: str) -> None:
    probe = SimulatedProbe("beer", _fermenter(ManualClock()))
    with pytest.raises(ValueError, match="cannot inject"):
        probe.inject(bad)
    assert probe.fault is None


def test_bad_source_is_refused() -> None:
    with pytest.raises(ValueError, match="source"):
        SimulatedProbe("beer", _fermenter(ManualClock()), "wort")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("relay", "no_relay", "warmer"),
    [("heater", "cooler", True), ("cooler", "heater", False)],
)
async def test_simulate_runs_a_fermenter_with_one_relay(
    tmp_path: Path, relay: str, no_relay: str, warmer: bool
) -> None:
    """A heat belt alone (cooler = "") or a fridge alone (heater = ""), as a brewer
    trying BeerPi without a Pi would write it: --simulate builds it, with only that
    relay, and the relay moves the beer its way (it refused: 'needs ... both')."""
    pin = 17 if relay == "heater" else 27
    config_path = tmp_path / "daemon.toml"
    config_path.write_text(
        f'[[relays]]\nid = "{relay}"\npin = {pin}\n'
        f'[thermostat]\n{no_relay} = ""\n'
        "[camera]\nenabled = false\n"
    )
    config = load_config(
        config_path,
        {
            "simulate": True,
            "server.token": "one-relay-token-0123",
            "storage.data_dir": str(tmp_path),
        },
    )
    clock = ManualClock()
    hardware = build_hardware(config, clock)
    assert set(hardware.relays) == {relay}
    assert hardware.simulation is not None
    fermenter = hardware.simulation.fermenter
    fermenter.set_ambient(20.0)
    start = fermenter.beer_c
    hardware.relays[relay].on()
    clock.advance(3 * HOUR)
    assert (fermenter.beer_c > start + 0.5) if warmer else (fermenter.beer_c < start - 0.5)
    fermenter.close()
