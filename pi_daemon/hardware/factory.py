"""Builds the hardware from the config, once: real backends on a Pi, the simulation otherwise."""

from __future__ import annotations

import logging

from pi_daemon.clock import Clock
from pi_daemon.config import ConfigError, DaemonConfig
from pi_daemon.service import Hardware

from .base import Camera, Probe, Relay, RelayError

_LOGGER = logging.getLogger(__name__)


def build_hardware(config: DaemonConfig, clock: Clock) -> Hardware:
    names = {p.id: p.name or p.id for p in config.probes}
    names.update({r.id: r.name or r.id for r in config.relays})
    hardware = _simulated(config, clock, names) if config.simulate else _real(config, names)
    if config.tilts:
        from pi_daemon.gravity.ble import TiltListener

        hardware.hydrometers.append(TiltListener(config.tilts, clock))
    return hardware


# Long on purpose: wires the whole simulated rig (chamber model, probes, relays, camera, restored
# state) from one config; each line is one part, in the order they depend on each other.
def _simulated(config: DaemonConfig, clock: Clock, names: dict[str, str]) -> Hardware:
    from pi_daemon.simulation.camera import SimulatedCamera
    from pi_daemon.simulation.chamber import ChamberModel
    from pi_daemon.simulation.fermenter import SimulatedFermenter
    from pi_daemon.simulation.handles import Simulation, load_model_state
    from pi_daemon.simulation.probes import SimulatedProbe

    sim = config.simulation
    t = config.thermostat
    model = ChamberModel(room_c=sim.room_c, beer_c=sim.initial_beer_c, seed=sim.seed)
    # A restart carries on from the last temperatures, not from initial_beer_c.
    state_path = config.storage.data_dir / "simulation.json"
    if load_model_state(state_path, model):
        _LOGGER.info(
            "simulation: carrying on at beer %.2f °C, air %.2f °C", model.beer_c, model.air_c
        )
    # The modelled chamber's heater and cooler are the thermostat's relays; a fermenter
    # with one of them (heater = "" or cooler = "") never runs the other side of the plant.
    heater = next((r for r in config.relays if r.id == t.heater), None)
    cooler = next((r for r in config.relays if r.id == t.cooler), None)
    fermenter = SimulatedFermenter(
        clock,
        model=model,
        heater_id=heater.id if heater else None,
        cooler_id=cooler.id if cooler else None,
        heater_pin=heater.pin if heater else 0,
        cooler_pin=cooler.pin if cooler else 0,
    )
    relays: dict[str, Relay] = dict(fermenter.relays)
    extra = [r for r in config.relays if r.id not in relays]
    if extra:
        from .gpio_relays import GpioRelay

        for relay in extra:
            relays[relay.id] = GpioRelay(
                relay.id,
                relay.pin,
                active_high=relay.active_high,
                pin_factory=fermenter.pin_factory,
            )
    probes: dict[str, Probe] = {}
    sim_probes: dict[str, SimulatedProbe] = {}
    for index, probe in enumerate(config.probes):
        source = probe.simulated or ("beer" if index == 0 else "air")
        sim_probe = SimulatedProbe(
            probe.id,
            fermenter,
            source,
            conversion_s=sim.probe_conversion_s,
            seed=f"{sim.seed}-{probe.id}",
        )
        probes[probe.id] = sim_probe
        sim_probes[probe.id] = sim_probe
    camera: Camera | None = SimulatedCamera(clock) if config.camera.enabled else None
    hardware = Hardware(
        probes=probes,
        relays=relays,
        camera=camera,
        simulation=Simulation(fermenter, sim_probes, state_path),
        names=names,
    )
    gravity = config.gravity
    if gravity.simulated_tilt:
        from pi_daemon.simulation.tilt import SimulatedTilt

        hardware.hydrometers.append(
            SimulatedTilt(
                gravity.simulated_tilt_id,
                fermenter,
                period_s=gravity.simulated_tilt_period_s,
                seed=sim.seed,
            )
        )
    return hardware


def _real(config: DaemonConfig, names: dict[str, str]) -> Hardware:
    from .gpio_relays import GpioRelay
    from .w1_probes import W1BusError, W1ThermProbe, sensors_not_on_the_bus

    relays: dict[str, Relay] = {}
    probes: dict[str, Probe] = {}
    try:
        for relay in config.relays:
            relays[relay.id] = GpioRelay(relay.id, relay.pin, active_high=relay.active_high)
        for index, p in enumerate(config.probes):
            try:
                probes[p.id] = W1ThermProbe(p.id, p.sensor_id, load_kernel_module=True)
            except ValueError as err:  # a family that is no temperature sensor
                raise ConfigError(f"probes[{index}].sensor_id: {err}") from err
    except (RelayError, W1BusError, ConfigError) as err:
        for made in relays.values():
            made.close()  # off, and the pin released: nothing more is built
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(str(err)) from err
    for line in sensors_not_on_the_bus({p.id: p.sensor_id for p in config.probes}):
        _LOGGER.warning("%s", line)
    camera: Camera | None = None
    if config.camera.enabled:
        from .picamera import PiCamera

        camera = PiCamera()
    return Hardware(probes=probes, relays=relays, camera=camera, names=names)
