"""The daemon's configuration: a TOML file and command-line overrides, validated once at start.

Every field has a default that suits the simulation, so `beerpi-daemon
--simulate --token T` needs no file. Sections are frozen dataclasses read by
the strict readers of ``config_reader`` (not pydantic: the README's design
section says why). An error lists every problem, one a line, each naming its
key, e.g.
``relays[1].pin: should be less than or equal to 27, not 99``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from beerpi_guard.config_file import invalid_config, read_toml
from beerpi_guard.origins import check_origins
from beerpi_guard.tokens import WeakSecretError, check_token, resolve_secret
from beerpi_protocol import DEFAULT_PORT
from beerpi_protocol.profiles import DEFAULT_TARGET_RANGE_C

from .config_reader import Problems, Table
from .control.settings import ControlSettings, Tuning
from .hardware.w1_probes import PLACEHOLDER_SENSOR_ID, normalise_sensor_id
from .safety import limits
from .safety.limits import RelayTiming, SafetySettings

_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,31}")
_IDENTIFIER_MEANS = "a lower-case name (a-z, 0-9, _; up to 32, starting with a letter)"
_OPTIONAL_IDENTIFIER = re.compile(rf"|{_IDENTIFIER.pattern}")
# The thermostat's parts a fermenter may lack: a heat belt alone, a fridge alone, no air probe.
_OPTIONAL_ROLES = ("chamber_probe", "heater", "cooler")
_DEVICE_ID = re.compile(r"[A-Za-z0-9_.-]{0,64}")
_DAY_S = 86400.0
_WEEK_S = 7 * _DAY_S


class ConfigError(Exception):
    """A configuration the daemon cannot start with; the message names the field."""


def _celsius(t: Table, name: str) -> None:
    t.number(name, ge=-50, le=150)


def _c(value: float) -> str:
    return f"{value:g} °C"


def _identifier(t: Table, name: str) -> None:
    t.text(name, pattern=_IDENTIFIER, pattern_means=_IDENTIFIER_MEANS)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceSection:
    # Stable id for Home Assistant and the history; generated into the data dir if empty.
    id: str = ""
    name: str = "BeerPi"

    @classmethod
    def read(cls, t: Table) -> Self:
        t.text("id", pattern=_DEVICE_ID, pattern_means="up to 64 of A-Z, a-z, 0-9, '_', '.', '-'")
        t.text("name", min_length=1, max_length=64)
        return cls(**t.finish())


# Control requests a client (or a dial-out link) may send per second, by default.
CONTROL_RATE_PER_S = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSection:
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    # The token, or better a file holding it (or BEERPI_TOKEN in the environment):
    # a config file is often world-readable, and a --token shows up in `ps`.
    token: str = ""
    token_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_clients: int = 32
    # Control requests per client per second, averaged over a short burst.
    control_rate_per_s: float = CONTROL_RATE_PER_S
    # Web pages (by their origin, e.g. "https://ha.example.com") allowed to open
    # the socket.io connection from a browser; clients that are not browsers
    # (Home Assistant, the web service) send no Origin and are not affected.
    allowed_origins: tuple[str, ...] = ()
    # Connections that have not authenticated yet: at most this many at once,
    # each closed if it has not authenticated within auth_timeout_s.
    max_unauthenticated: int = 16
    auth_timeout_s: float = 5.0

    @classmethod
    def read(cls, t: Table) -> Self:
        t.text("host")
        t.integer("port", ge=1, le=65535)
        t.text("token", max_length=256)
        for name in ("token_file", "tls_cert", "tls_key"):
            t.path(name, nullable=True)
        t.integer("max_clients", ge=1, le=1000)
        t.number("control_rate_per_s", gt=0, le=1000)
        t.texts("allowed_origins", check_origins)
        t.integer("max_unauthenticated", ge=1, le=1000)
        t.number("auth_timeout_s", gt=0, le=60)
        section = cls(**t.finish())
        if t.clean and (section.tls_cert is None) != (section.tls_key is None):
            t.problem(
                "tls_key" if section.tls_key is None else "tls_cert",
                "tls_cert and tls_key must be given together",
            )
        return section


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageSection:
    data_dir: Path = Path("/var/lib/beerpi")
    # How often a reading of each probe goes to the outbox (the history).
    record_interval_s: float = 60.0
    outbox_max_age_days: float = 90.0
    outbox_max_rows: int = 2_000_000
    keep_photos: int = 500
    keep_videos: int = 20

    @classmethod
    def read(cls, t: Table) -> Self:
        t.path("data_dir")
        t.number("record_interval_s", gt=0)
        t.number("outbox_max_age_days", gt=0, le=3650)
        t.integer("outbox_max_rows", ge=1000, le=50_000_000)
        t.integer("keep_photos", ge=1, le=100_000)
        t.integer("keep_videos", ge=1, le=10_000)
        return cls(**t.finish())


@dataclass(frozen=True, slots=True, kw_only=True)
class SamplingSection:
    # Why 5 s: see pi_daemon/safety/limits.py.
    read_interval_s: float = limits.READ_INTERVAL_S

    @classmethod
    def read(cls, t: Table) -> Self:
        t.number("read_interval_s", ge=0.001, le=3600)
        return cls(**t.finish())


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeSection:
    id: str
    name: str = ""
    # DS18B20 id on the 1-Wire bus, e.g. "28-0316a2795aff" (real hardware only).
    sensor_id: str = ""
    # Simulation only: which part of the modelled fermenter the probe measures.
    simulated: Literal["beer", "air"] | None = None

    @classmethod
    def read(cls, t: Table) -> Self | None:
        _identifier(t, "id")
        t.text("name")
        t.text("sensor_id")
        t.text("simulated", choices=("beer", "air"), nullable=True)
        values = t.finish()
        if values.get("sensor_id"):
            try:
                values["sensor_id"] = normalise_sensor_id(values["sensor_id"])
            except ValueError as err:
                t.problem("sensor_id", str(err))
        if "id" not in values:
            if t.clean:
                t.problem("id", "is required")
            return None
        return cls(**values)


def _polarity_hint(key: str) -> str | None:
    """The polarity under another name: the closest key, active_high, would invert it."""
    if any(word in key.lower() for word in ("low", "invert", "polarity", "trigger")):
        return (
            "unknown key: the polarity is active_high; for a board that switches on when "
            "the pin is low (most cheap ones), write active_high = false"
        )
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class RelaySection:
    id: str
    name: str = ""
    # BCM GPIO number.
    pin: int
    # Most cheap relay boards switch on when the pin is low.
    active_high: bool = True

    @classmethod
    def read(cls, t: Table) -> Self | None:
        _identifier(t, "id")
        t.text("name")
        t.integer("pin", ge=0, le=27)
        t.boolean("active_high")
        values = t.finish(_polarity_hint)
        missing = [name for name in ("id", "pin") if name not in values]
        if missing:
            if t.clean:
                for name in missing:
                    t.problem(name, "is required")
            return None
        return cls(**values)


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraSection:
    enabled: bool = True
    max_video_s: float = 120.0

    @classmethod
    def read(cls, t: Table) -> Self:
        t.boolean("enabled")
        t.number("max_video_s", gt=0, le=600)
        return cls(**t.finish())


_TUNING = Tuning()  # the controller's defaults, for the trade-offs a brewer may set


@dataclass(frozen=True, slots=True, kw_only=True)
class ThermostatSection:
    probe: str = "beer"
    # The fridge air: the controller steers it (None: plain control on the beer).
    chamber_probe: str | None = "fridge"
    heater: str | None = "heater"
    cooler: str | None = "cooler"
    # The web service checks saved profiles against this default range.
    min_target: float = DEFAULT_TARGET_RANGE_C[0]
    max_target: float = DEFAULT_TARGET_RANGE_C[1]
    # Used the first time; afterwards the mode and target last set are restored.
    initial_mode: Literal["off", "heat", "cool", "heat_cool"] = "off"
    initial_target: float = 18.0
    # Relay protection and the safety rules: see pi_daemon/safety/limits.py for why.
    heater_min_on_s: float = limits.HEATER_MIN_ON_S
    heater_min_off_s: float = limits.HEATER_MIN_OFF_S
    heater_max_run_s: float = limits.HEATER_MAX_RUN_S
    heater_no_effect_s: float = limits.HEATER_NO_EFFECT_S
    cooler_min_on_s: float = limits.COOLER_MIN_ON_S
    cooler_min_off_s: float = limits.COOLER_MIN_OFF_S
    cooler_max_run_s: float = limits.COOLER_MAX_RUN_S
    cooler_no_effect_s: float = limits.COOLER_NO_EFFECT_S
    changeover_s: float = limits.CHANGEOVER_S
    high_cutoff: float = limits.HIGH_CUTOFF_C
    low_cutoff: float = limits.LOW_CUTOFF_C
    stale_after_s: float = limits.STALE_S
    # Trade-offs of the controller (docs/control.md, section 5). How far one compressor
    # cycle may swing the beer (°C peak to peak, as its learned time constant says) for
    # the band to widen past 10 °C: larger, fewer compressor starts and a looser hold;
    # 0, the band never widens past 10 °C.
    beer_ripple_max: float = _TUNING.beer_ripple_max_c
    # The most chamber air the beer probe may be found to feel and have taken out of
    # its reading (a probe taped to the fermenter); 0, the reading is used as it is.
    probe_air_share_max: float = _TUNING.air_share_max

    @classmethod
    def read(cls, t: Table) -> Self:
        _identifier(t, "probe")
        for role in _OPTIONAL_ROLES:
            t.text(
                role,
                pattern=_OPTIONAL_IDENTIFIER,
                pattern_means=f'{_IDENTIFIER_MEANS}, or "" for none',
                nullable=True,
            )
        for name in ("min_target", "max_target", "initial_target", "high_cutoff", "low_cutoff"):
            _celsius(t, name)
        t.text("initial_mode", choices=("off", "heat", "cool", "heat_cool"))
        for relay in ("heater", "cooler"):
            t.number(f"{relay}_min_on_s", ge=0, le=3600)
            t.number(f"{relay}_max_run_s", gt=0, le=_WEEK_S)
            t.number(f"{relay}_no_effect_s", gt=0, le=_DAY_S)
        t.number("heater_min_off_s", ge=0, le=3600)
        t.number("cooler_min_off_s", ge=limits.COOLER_MIN_OFF_FLOOR_S, le=7200)
        t.number("changeover_s", ge=0, le=_DAY_S)
        t.number("stale_after_s", gt=0, le=_DAY_S)
        t.number("beer_ripple_max", ge=0, le=2.0)
        t.number("probe_air_share_max", ge=0, le=0.5)
        values = t.finish()
        for role in _OPTIONAL_ROLES:
            if values.get(role) == "":  # TOML has no null: "" says there is none
                values[role] = None
        section = cls(**values)
        if t.clean:
            section._check(t)
        return section

    def _check(self, t: Table) -> None:
        """What ties the fields together, named by the keys a brewer writes."""
        low, high = self.min_target, self.max_target
        if not low < high:
            t.problem("max_target", f"must be above min_target ({_c(low)}), not {_c(high)}")
            return
        if not self.low_cutoff < low:
            t.problem(
                "low_cutoff", f"must be below min_target ({_c(low)}), not {_c(self.low_cutoff)}"
            )
        if not high < self.high_cutoff:
            t.problem(
                "high_cutoff", f"must be above max_target ({_c(high)}), not {_c(self.high_cutoff)}"
            )
        if not low <= self.initial_target <= high:
            t.problem(
                "initial_target",
                f"must lie between min_target and max_target ({_c(low)} to {_c(high)}), "
                f"not {_c(self.initial_target)}",
            )
        for relay in ("heater", "cooler"):
            min_on, max_run = (getattr(self, f"{relay}_{k}_s") for k in ("min_on", "max_run"))
            if not max_run > min_on:
                t.problem(
                    f"{relay}_max_run_s",
                    f"must be longer than {relay}_min_on_s ({min_on:g} s), not {max_run:g} s",
                )
        if self.chamber_probe is not None and self.chamber_probe == self.probe:
            t.problem("chamber_probe", f"must be another probe than probe ({self.probe!r})")
        if self.heater is None and self.cooler is None:
            t.problem("cooler", 'a thermostat needs a heater or a cooler (both are "")')
        elif self.heater == self.cooler:
            t.problem("cooler", f"must be another relay than heater (both {self.heater!r})")
        # Checked here, with the config: at the start the thermostat refused it as if
        # thermostat.json (which may not exist) held it.
        for relay, needed_by in (
            ("heater", ("heat", "heat_cool")),
            ("cooler", ("cool", "heat_cool")),
        ):
            if getattr(self, relay) is None and self.initial_mode in needed_by:
                t.problem(
                    "initial_mode",
                    f'{self.initial_mode} needs a {relay}, and {relay} is "" (none): '
                    f'write initial_mode = "off" or the mode of the relays it has',
                )
        if not t.clean:
            return
        try:
            self.control_settings()  # its own checks, should one be missing above
        except ValueError as err:
            t.problems.add(t.where, str(err))

    def control_settings(self) -> ControlSettings:
        return ControlSettings(
            probe=self.probe,
            chamber_probe=self.chamber_probe,
            heater=self.heater,
            cooler=self.cooler,
            target_min_c=self.min_target,
            target_max_c=self.max_target,
            default_target_c=self.initial_target,
            heater_timing=RelayTiming(
                min_on_s=self.heater_min_on_s,
                min_off_s=self.heater_min_off_s,
                max_run_s=self.heater_max_run_s,
                no_effect_s=self.heater_no_effect_s,
            ),
            cooler_timing=RelayTiming(
                min_on_s=self.cooler_min_on_s,
                min_off_s=self.cooler_min_off_s,
                max_run_s=self.cooler_max_run_s,
                no_effect_s=self.cooler_no_effect_s,
            ),
            tuning=Tuning(
                beer_ripple_max_c=self.beer_ripple_max,
                air_share_max=self.probe_air_share_max,
            ),
            safety=SafetySettings(
                high_cutoff_c=self.high_cutoff,
                low_cutoff_c=self.low_cutoff,
                stale_s=self.stale_after_s,
                changeover_s=self.changeover_s,
            ),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationSection:
    speed: float = 1.0
    initial_beer_c: float = 20.0
    room_c: float = 20.0
    seed: int = 1
    # A DS18B20 takes 0.75 s per 12-bit conversion; tests and benchmarks shorten it.
    probe_conversion_s: float = 0.75

    @classmethod
    def read(cls, t: Table) -> Self:
        t.number("speed", gt=0, le=100_000)
        _celsius(t, "initial_beer_c")
        _celsius(t, "room_c")
        t.integer("seed")
        t.number("probe_conversion_s", ge=0, le=10)
        return cls(**t.finish())


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetySection:
    # Real seconds without a completed control step before the watchdog switches
    # every relay off; unset: 15 s, or three read periods when those are longer.
    watchdog_s: float | None = None

    @classmethod
    def read(cls, t: Table) -> Self:
        t.number("watchdog_s", gt=0, le=3600, nullable=True)
        return cls(**t.finish())


@dataclass(frozen=True, slots=True, kw_only=True)
class ZeroconfSection:
    enabled: bool = True

    @classmethod
    def read(cls, t: Table) -> Self:
        t.boolean("enabled")
        return cls(**t.finish())


@dataclass(frozen=True, slots=True, kw_only=True)
class DialOutSection:
    # URL of a BeerPi web service to connect out to (the Pi behind NAT case).
    server: str | None = None
    # This device's token on that service: token, token_file or BEERPI_SERVER_TOKEN.
    token: str = ""
    token_file: Path | None = None
    tls_verify: bool = True
    # Longest wait between two tries while the service is refused or unreachable.
    retry_max_s: float = limits.LINK_RETRY_MAX_S

    @classmethod
    def read(cls, t: Table) -> Self:
        t.text("server", nullable=True)
        t.text("token")
        t.path("token_file", nullable=True)
        t.boolean("tls_verify")
        t.number("retry_max_s", gt=0, le=3600)
        values = t.finish()
        server = values.get("server")
        if server:
            try:
                parts = urlsplit(server)
                url_ok = parts.scheme in ("http", "https", "ws", "wss") and bool(parts.hostname)
                parts.port  # noqa: B018 - 99999 or 8x: refused, not retried for ever
            except ValueError:  # an unclosed [ of an IPv6 address, a port that is none
                url_ok = False
            if not url_ok:
                # Not echoed: a URL may carry a password.
                t.problem(
                    "server",
                    "should be the web service's URL, like https://beerpi.example.com "
                    "(http, https, ws or wss, and a host)",
                )
        return cls(**values)


_HYDROMETER_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_HYDROMETER_MEANS = "1 to 64 of A-Z, a-z, 0-9, '_', '.', '-'"


@dataclass(frozen=True, slots=True, kw_only=True)
class GravitySection:
    # A report_gravity reading older than this (by its own time) is refused.
    max_report_age_s: float = 7200.0
    # --simulate only: a simulated Tilt in the simulated beer (off: no gravity).
    simulated_tilt: bool = True
    simulated_tilt_id: str = "tilt-red"
    # Seconds (simulation time) between two of its readings; a real Tilt sends
    # every few seconds, the daemon keeps one a minute.
    simulated_tilt_period_s: float = 60.0

    @classmethod
    def read(cls, t: Table) -> Self:
        t.number("max_report_age_s", ge=60, le=7 * _DAY_S)
        t.boolean("simulated_tilt")
        t.text("simulated_tilt_id", pattern=_HYDROMETER_ID, pattern_means=_HYDROMETER_MEANS)
        t.number("simulated_tilt_period_s", ge=1, le=3600)
        return cls(**t.finish())


TILT_COLOURS: tuple[str, ...] = (
    "red",
    "green",
    "black",
    "purple",
    "orange",
    "blue",
    "yellow",
    "pink",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TiltSection:
    """A real Tilt hydrometer, heard over Bluetooth LE (``[[tilts]]``)."""

    colour: str
    # The hydrometer's id in the state; default "tilt-<colour>".
    id: str = ""
    # Added to what it reads: calibrate in water (SG 1.000) and at a known gravity.
    sg_offset: float = 0.0
    temperature_offset_c: float = 0.0

    @classmethod
    def read(cls, t: Table) -> Self | None:
        t.text("colour", choices=TILT_COLOURS)
        t.text("id", pattern=_HYDROMETER_ID, pattern_means=_HYDROMETER_MEANS)
        t.number("sg_offset", ge=-0.05, le=0.05)
        t.number("temperature_offset_c", ge=-10, le=10)
        values = t.finish()
        if "colour" not in values:
            if t.clean:
                t.problem("colour", "is required")
            return None
        values.setdefault("id", f"tilt-{values['colour']}")
        return cls(**values)


def _default_probes() -> tuple[ProbeSection, ...]:
    return (
        ProbeSection(id="beer", name="Beer", simulated="beer"),
        ProbeSection(id="fridge", name="Fridge", simulated="air"),
    )


def _default_relays() -> tuple[RelaySection, ...]:
    return (
        RelaySection(id="heater", name="Heater", pin=17),
        RelaySection(id="cooler", name="Cooler", pin=27),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonConfig:
    simulate: bool = False
    device: DeviceSection = field(default_factory=DeviceSection)
    server: ServerSection = field(default_factory=ServerSection)
    storage: StorageSection = field(default_factory=StorageSection)
    sampling: SamplingSection = field(default_factory=SamplingSection)
    probes: tuple[ProbeSection, ...] = field(default_factory=_default_probes)
    relays: tuple[RelaySection, ...] = field(default_factory=_default_relays)
    camera: CameraSection = field(default_factory=CameraSection)
    thermostat: ThermostatSection = field(default_factory=ThermostatSection)
    simulation: SimulationSection = field(default_factory=SimulationSection)
    safety: SafetySection = field(default_factory=SafetySection)
    zeroconf: ZeroconfSection = field(default_factory=ZeroconfSection)
    dialout: DialOutSection = field(default_factory=DialOutSection)
    gravity: GravitySection = field(default_factory=GravitySection)
    tilts: tuple[TiltSection, ...] = ()

    @classmethod
    def read(cls, data: Mapping[str, Any], problems: Problems) -> Self:
        """The config in ``data``; every problem found goes to ``problems``."""
        top = Table(data, "", problems)
        top.boolean("simulate")
        for name, section in _SECTIONS.items():
            top.values[name] = section.read(top.table(name))
        probes = top.tables("probes", min_length=1, max_length=32)
        if probes is not None:
            top.values["probes"] = tuple(p for p in map(ProbeSection.read, probes) if p)
        relays = top.tables("relays", min_length=0, max_length=16)
        if relays is not None:
            top.values["relays"] = tuple(r for r in map(RelaySection.read, relays) if r)
        tilts = top.tables("tilts", min_length=0, max_length=len(TILT_COLOURS))
        if tilts is not None:
            top.values["tilts"] = tuple(x for x in map(TiltSection.read, tilts) if x)
        config = cls(**top.finish())
        if not problems:
            config._check(problems)
        return config

    def _check(self, problems: Problems) -> None:
        """What no single section can check: references between them, real hardware."""
        probe_ids = [p.id for p in self.probes]
        relay_ids = [r.id for r in self.relays]
        for kind, ids in (("probes", probe_ids), ("relays", relay_ids)):
            for index, each in enumerate(ids):
                if each in ids[:index]:
                    problems.add(f"{kind}[{index}].id", f"duplicate id {each!r}")
        for kind, ids in (
            ("colour", [x.colour for x in self.tilts]),
            ("id", [x.id for x in self.tilts]),
        ):
            for index, each in enumerate(ids):
                if each in ids[:index]:
                    problems.add(f"tilts[{index}].{kind}", f"duplicate {kind} {each!r}")
        sensors = [p.sensor_id for p in self.probes]
        for index, sensor in enumerate(sensors):
            # Placeholders are named below, on real hardware; a simulation reads none.
            if sensor and sensor != PLACEHOLDER_SENSOR_ID and sensor in sensors[:index]:
                first = sensors.index(sensor)
                problems.add(
                    f"probes[{index}].sensor_id",
                    f"{sensor} is already probes[{first}]'s ({self.probes[first].id}): "
                    "each probe is a sensor of its own",
                )
        pins = [r.pin for r in self.relays]
        for index, pin in enumerate(pins):
            if pin in pins[:index]:
                first = pins.index(pin)
                problems.add(
                    f"relays[{index}].pin",
                    f"GPIO {pin} is already relays[{first}]'s ({self.relays[first].id}): "
                    "two relays would share a GPIO pin and switch together",
                )
        t = self.thermostat
        for role, value, known, kind in (
            ("probe", t.probe, probe_ids, "probes"),
            ("chamber_probe", t.chamber_probe, probe_ids, "probes"),
            ("heater", t.heater, relay_ids, "relays"),
            ("cooler", t.cooler, relay_ids, "relays"),
        ):
            if value is not None and value not in known:
                problems.add(f"thermostat.{role}", f"{value!r} is not one of the {kind}")
        if not self.simulate:
            for i, probe in enumerate(self.probes):
                if not probe.sensor_id:
                    problems.add(f"probes[{i}].sensor_id", "is required on real hardware")
                elif probe.sensor_id == PLACEHOLDER_SENSOR_ID:
                    problems.add(
                        f"probes[{i}].sensor_id",
                        f"{PLACEHOLDER_SENSOR_ID} is the placeholder --init-config writes when "
                        "it finds no probe: put the probe's id (beerpi-daemon --list-probes)",
                    )
        watchdog = self.safety.watchdog_s
        minimum = limits.WATCHDOG_MIN_PERIODS * self.read_period_real_s
        if watchdog is not None and watchdog < minimum:
            problems.add(
                "safety.watchdog_s",
                f"must be at least {limits.WATCHDOG_MIN_PERIODS} read periods ({minimum:g} s)",
            )

    @property
    def read_period_real_s(self) -> float:
        """Real seconds between probe reads (a slowed-down simulation reads less often)."""
        speed = self.simulation.speed if self.simulate else 1.0
        return self.sampling.read_interval_s / min(speed, 1.0)

    @property
    def watchdog_s(self) -> float:
        """The watchdog's limit in real seconds."""
        return limits.watchdog_limit_s(self.safety.watchdog_s, self.read_period_real_s)

    @property
    def record_interval_s(self) -> float:
        return self.storage.record_interval_s


_SECTIONS: dict[str, Any] = {
    "device": DeviceSection,
    "server": ServerSection,
    "storage": StorageSection,
    "sampling": SamplingSection,
    "camera": CameraSection,
    "thermostat": ThermostatSection,
    "simulation": SimulationSection,
    "safety": SafetySection,
    "zeroconf": ZeroconfSection,
    "dialout": DialOutSection,
    "gravity": GravitySection,
}


def load_config(
    path: Path | None,
    overrides: dict[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> DaemonConfig:
    """Read the TOML file (if any), apply dotted-key overrides from the CLI, validate.

    Secrets given as files or in the environment (``BEERPI_TOKEN``,
    ``BEERPI_SERVER_TOKEN``) are read here, so the rest of the daemon sees
    ``server.token`` and ``dialout.token`` only.
    """
    data, source = read_toml(path, ConfigError)
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{key} must be a table in {source}")
            node = child
        node[leaf] = value
    # Without a file every key is from the command line, as the message's first line says.
    problems = Problems(from_command_line=(overrides or {}) if path is not None else ())
    config = DaemonConfig.read(data, problems)
    if problems:
        raise ConfigError(invalid_config(source, problems.lines))
    return _with_secrets(config, os.environ if environ is None else environ)


def _with_secrets(config: DaemonConfig, environ: Mapping[str, str]) -> DaemonConfig:
    server, dialout = config.server, config.dialout
    try:
        token = resolve_secret(
            "server.token", server.token, server.token_file, "BEERPI_TOKEN", environ
        )
        server_token = None
        if dialout.server is not None:
            server_token = resolve_secret(
                "dialout.token", dialout.token, dialout.token_file, "BEERPI_SERVER_TOKEN", environ
            )
    except WeakSecretError as err:
        raise ConfigError(str(err)) from None
    if dialout.server is not None and not server_token:
        raise ConfigError(
            "dialout.token is required with dialout.server "
            "(--server-token-file, BEERPI_SERVER_TOKEN, or token_file in [dialout])"
        )
    return dataclasses.replace(
        config,
        server=dataclasses.replace(server, token=token or "", token_file=None),
        dialout=dataclasses.replace(dialout, token=server_token or dialout.token, token_file=None),
    )


def check_secrets(config: DaemonConfig) -> None:
    """Refuse to start with a missing or weak token (ConfigError says how to make one)."""
    if not config.server.token:
        raise ConfigError(
            "a token is required: --token-file FILE, BEERPI_TOKEN in the environment, "
            "or token_file (or token) in [server] of the config"
        )
    try:
        check_token("the daemon's token (server.token)", config.server.token)
        if config.dialout.server is not None:
            check_token("the dial-out token (dialout.token)", config.dialout.token)
    except WeakSecretError as err:
        raise ConfigError(str(err)) from None
