"""The daemon's simulated chamber is the physics plant, and a restart carries all of it on."""

from __future__ import annotations

import json
from pathlib import Path

from pi_daemon.clock import ManualClock
from pi_daemon.simulation.chamber import ChamberModel
from pi_daemon.simulation.fermenter import SimulatedFermenter
from pi_daemon.simulation.handles import FORMAT_VERSION, Simulation, load_model_state

HOUR = 3600.0


def test_the_chamber_air_coasts_on_after_the_compressor_stops() -> None:
    # The old two-node model's air turned back the instant the cooler stopped; the
    # plant's evaporator and refrigerant keep cooling it for a while.
    model = ChamberModel(beer_c=20.0)
    model.advance(HOUR / 2, heater_on=False, cooler_on=True)
    at_stop = model.air_c
    lowest = at_stop
    for _ in range(60):
        model.advance(10.0, heater_on=False, cooler_on=False)
        lowest = min(lowest, model.air_c)
    assert lowest < at_stop - 0.1
    assert model.air_c > at_stop  # and then the room and the beer warm it back


def test_a_held_ambient_replaces_the_daily_swing_and_can_be_released() -> None:
    model = ChamberModel(room_c=20.0)
    model.ambient_override_c = 35.0
    assert [model.room_c() for _ in range(2)] == [35.0, 35.0]
    model.advance(12 * HOUR, heater_on=False, cooler_on=False)
    assert model.room_c() == 35.0
    model.ambient_override_c = None
    assert 18.0 <= model.room_c() <= 22.0  # back on the 20 ± 2 °C curve


async def test_a_restart_carries_every_node_and_the_fermentation_on(tmp_path: Path) -> None:
    path = tmp_path / "simulation.json"
    clock = ManualClock()
    fermenter = SimulatedFermenter(clock, model=ChamberModel(beer_c=19.0))
    fermenter.cooler.on()
    clock.advance(40 * HOUR)  # fermentation under way, evaporator cold
    await Simulation(fermenter, {}, path).checkpoint()
    before = fermenter.model
    assert 0.0 < before.plant.fermented < 1.0
    assert json.loads(path.read_text())["version"] == FORMAT_VERSION

    after = ChamberModel(beer_c=5.0)
    assert load_model_state(path, after)
    assert after.plant.temps == before.plant.temps
    assert after.elapsed_s == before.elapsed_s
    assert after.plant.fermented == before.plant.fermented
    assert after.plant.cooling_w == before.plant.cooling_w
    # Both carry on the same way: no jolt, and the compressor's lag is kept.
    before.advance(HOUR, heater_on=False, cooler_on=True)
    after.advance(HOUR, heater_on=False, cooler_on=True)
    assert after.plant.temps == before.plant.temps


def test_a_state_from_the_old_two_node_model_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "simulation.json"
    path.write_text(json.dumps({"version": 1, "beer_c": 17.5, "air_c": 12.0, "elapsed_s": 7200}))
    model = ChamberModel(beer_c=20.0)
    assert load_model_state(path, model)
    assert model.beer_c == 17.5
    assert model.plant.temps[1:] == [12.0] * 4  # the chamber's parts at the air's temperature
    assert model.elapsed_s == 7200.0


def test_a_damaged_state_is_ignored_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "simulation.json"
    model = ChamberModel(beer_c=20.0)
    good = model.plant.state()
    for document in (
        {**good, "version": 2, "beer_c": 20.0, "air_c": 20.0, "temps_c": [20.0, 20.0]},
        {**good, "version": 2, "beer_c": 20.0, "air_c": 20.0, "fermented": 1.5},
        {**good, "version": 2, "beer_c": 20.0, "air_c": 20.0, "temps_c": [20.0] * 4 + [1e9]},
        {**good, "version": 3, "beer_c": 20.0, "air_c": 20.0},
    ):
        path.write_text(json.dumps(document))
        assert not load_model_state(path, model), document
        assert model.plant.temps == [20.0] * 5
