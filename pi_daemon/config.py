"""The daemon's configuration: a TOML file and command-line overrides, validated once at start.

Every field has a default that suits the simulation, so `beerpi-daemon
--simulate --token T` needs no file. An error names the bad field, e.g.
``relays[1].pin: Input should be less than or equal to 27``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from beerpi_guard.origins import check_origins
from beerpi_guard.tokens import WeakSecretError, check_token, resolve_secret
from beerpi_protocol import DEFAULT_PORT

from .control.settings import ControlSettings
from .safety import limits
from .safety.limits import RelayTiming, SafetySettings

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Celsius = Annotated[float, Field(ge=-50, le=150, allow_inf_nan=False)]


class ConfigError(Exception):
    """A configuration the daemon cannot start with; the message names the field."""


class _Section(BaseModel):
    # A typo in a key must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceSection(_Section):
    # Stable id for Home Assistant and the history; generated into the data dir if empty.
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{0,64}$")] = ""
    name: Annotated[str, Field(min_length=1, max_length=64)] = "BeerPi"


class ServerSection(_Section):
    host: str = "0.0.0.0"
    port: Annotated[int, Field(ge=1, le=65535)] = DEFAULT_PORT
    # The token, or better a file holding it (or BEERPI_TOKEN in the environment):
    # a config file is often world-readable, and a --token shows up in `ps`.
    token: Annotated[str, Field(max_length=256)] = ""
    token_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_clients: Annotated[int, Field(ge=1, le=1000)] = 32
    # Control requests per client per second, averaged over a short burst.
    control_rate_per_s: Annotated[float, Field(gt=0, le=1000)] = 10.0
    # Web pages (by their origin, e.g. "https://ha.example.com") allowed to open
    # the socket.io connection from a browser; clients that are not browsers
    # (Home Assistant, the web service) send no Origin and are not affected.
    allowed_origins: list[str] = Field(default_factory=list)
    # Connections that have not authenticated yet: at most this many at once,
    # each closed if it has not authenticated within auth_timeout_s.
    max_unauthenticated: Annotated[int, Field(ge=1, le=1000)] = 16
    auth_timeout_s: Annotated[float, Field(gt=0, le=60, allow_inf_nan=False)] = 5.0

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return check_origins(value)

    @model_validator(mode="after")
    def _tls_pair(self) -> Self:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key must be given together")
        return self


class StorageSection(_Section):
    data_dir: Path = Path("/var/lib/beerpi")
    # How often a reading of each probe goes to the outbox (the history).
    record_interval_s: Seconds = 60.0
    outbox_max_age_days: Annotated[float, Field(gt=0, le=3650)] = 90.0
    outbox_max_rows: Annotated[int, Field(ge=1000, le=50_000_000)] = 2_000_000
    keep_photos: Annotated[int, Field(ge=1, le=100_000)] = 500
    keep_videos: Annotated[int, Field(ge=1, le=10_000)] = 20


class SamplingSection(_Section):
    # A DS18B20 needs ~0.75 s per 12-bit conversion; reading faster is pointless on hardware.
    read_interval_s: Annotated[float, Field(ge=0.001, le=3600, allow_inf_nan=False)] = 1.0


class ProbeSection(_Section):
    id: Identifier
    name: str = ""
    # DS18B20 id on the 1-Wire bus, e.g. "28-0316a2795aff" (real hardware only).
    sensor_id: str = ""
    # Simulation only: which part of the modelled fermenter the probe measures.
    simulated: Literal["beer", "air"] | None = None


class RelaySection(_Section):
    id: Identifier
    name: str = ""
    # BCM GPIO number.
    pin: Annotated[int, Field(ge=0, le=27)]
    # Most cheap relay boards switch on when the pin is low.
    active_high: bool = True


class CameraSection(_Section):
    enabled: bool = True
    max_video_s: Annotated[float, Field(gt=0, le=600)] = 120.0


class ThermostatSection(_Section):
    probe: Identifier = "beer"
    # The fridge air: the controller steers it (None: plain control on the beer).
    chamber_probe: Identifier | None = "fridge"
    heater: Identifier | None = "heater"
    cooler: Identifier | None = "cooler"
    min_target: Celsius = -2.0
    max_target: Celsius = 35.0
    # Used the first time; afterwards the mode and target last set are restored.
    initial_mode: Literal["off", "heat", "cool", "heat_cool"] = "off"
    initial_target: Celsius = 18.0
    # Relay protection and the safety rules: see pi_daemon/safety/limits.py for why.
    heater_min_on_s: Annotated[float, Field(ge=0, le=3600)] = limits.HEATER_MIN_ON_S
    heater_min_off_s: Annotated[float, Field(ge=0, le=3600)] = limits.HEATER_MIN_OFF_S
    heater_max_run_s: Annotated[float, Field(gt=0, le=7 * 86400)] = limits.HEATER_MAX_RUN_S
    heater_no_effect_s: Annotated[float, Field(gt=0, le=86400)] = limits.HEATER_NO_EFFECT_S
    cooler_min_on_s: Annotated[float, Field(ge=0, le=3600)] = limits.COOLER_MIN_ON_S
    cooler_min_off_s: Annotated[float, Field(ge=limits.COOLER_MIN_OFF_FLOOR_S, le=7200)] = (
        limits.COOLER_MIN_OFF_S
    )
    cooler_max_run_s: Annotated[float, Field(gt=0, le=7 * 86400)] = limits.COOLER_MAX_RUN_S
    cooler_no_effect_s: Annotated[float, Field(gt=0, le=86400)] = limits.COOLER_NO_EFFECT_S
    changeover_s: Annotated[float, Field(ge=0, le=86400)] = limits.CHANGEOVER_S
    high_cutoff: Celsius = limits.HIGH_CUTOFF_C
    low_cutoff: Celsius = limits.LOW_CUTOFF_C
    stale_after_s: Annotated[float, Field(gt=0, le=86400)] = limits.STALE_S

    @model_validator(mode="after")
    def _settings(self) -> Self:
        if not self.min_target <= self.initial_target <= self.max_target:
            raise ValueError("initial_target must lie between min_target and max_target")
        self.control_settings()  # its own checks (cut-offs outside the range, ...)
        return self

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
            safety=SafetySettings(
                high_cutoff_c=self.high_cutoff,
                low_cutoff_c=self.low_cutoff,
                stale_s=self.stale_after_s,
                changeover_s=self.changeover_s,
            ),
        )


class SimulationSection(_Section):
    speed: Annotated[float, Field(gt=0, le=100_000, allow_inf_nan=False)] = 1.0
    initial_beer_c: Celsius = 20.0
    room_c: Celsius = 20.0
    seed: int = 1
    # A DS18B20 takes 0.75 s per 12-bit conversion; tests and benchmarks shorten it.
    probe_conversion_s: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] = 0.75


class SafetySection(_Section):
    # Real seconds without a completed control step before the watchdog switches
    # every relay off; unset: 15 s, or three read periods when those are longer.
    watchdog_s: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] | None = None


class ZeroconfSection(_Section):
    enabled: bool = True


class DialOutSection(_Section):
    # URL of a BeerPi web service to connect out to (the Pi behind NAT case).
    server: str | None = None
    # This device's token on that service: token, token_file or BEERPI_SERVER_TOKEN.
    token: str = ""
    token_file: Path | None = None
    tls_verify: bool = True
    # Longest wait between two tries while the service is refused or unreachable.
    retry_max_s: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = (
        limits.LINK_RETRY_MAX_S
    )


def _default_probes() -> list[ProbeSection]:
    return [
        ProbeSection(id="beer", name="Beer", simulated="beer"),
        ProbeSection(id="fridge", name="Fridge", simulated="air"),
    ]


def _default_relays() -> list[RelaySection]:
    return [
        RelaySection(id="heater", name="Heater", pin=17),
        RelaySection(id="cooler", name="Cooler", pin=27),
    ]


class DaemonConfig(_Section):
    simulate: bool = False
    device: DeviceSection = DeviceSection()
    server: ServerSection = ServerSection()
    storage: StorageSection = StorageSection()
    sampling: SamplingSection = SamplingSection()
    probes: Annotated[list[ProbeSection], Field(min_length=1, max_length=32)] = Field(
        default_factory=_default_probes
    )
    relays: Annotated[list[RelaySection], Field(max_length=16)] = Field(
        default_factory=_default_relays
    )
    camera: CameraSection = CameraSection()
    thermostat: ThermostatSection = ThermostatSection()
    simulation: SimulationSection = SimulationSection()
    safety: SafetySection = SafetySection()
    zeroconf: ZeroconfSection = ZeroconfSection()
    dialout: DialOutSection = DialOutSection()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        probe_ids = [p.id for p in self.probes]
        relay_ids = [r.id for r in self.relays]
        for kind, ids in (("probe", probe_ids), ("relay", relay_ids)):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} id {', '.join(dupes)}")
        pins = [r.pin for r in self.relays]
        if len(set(pins)) != len(pins):
            raise ValueError("two relays share a GPIO pin")
        t = self.thermostat
        if t.probe not in probe_ids:
            raise ValueError(f"thermostat.probe {t.probe!r} is not one of the probes")
        if t.chamber_probe is not None and t.chamber_probe not in probe_ids:
            raise ValueError(f"thermostat.chamber_probe {t.chamber_probe!r} is not a probe")
        for role in ("heater", "cooler"):
            relay = getattr(t, role)
            if relay is not None and relay not in relay_ids:
                raise ValueError(f"thermostat.{role} {relay!r} is not one of the relays")
        if not self.simulate:
            for i, probe in enumerate(self.probes):
                if not probe.sensor_id:
                    raise ValueError(f"probes[{i}].sensor_id is required on real hardware")
        watchdog = self.safety.watchdog_s
        minimum = limits.WATCHDOG_MIN_PERIODS * self.read_period_real_s
        if watchdog is not None and watchdog < minimum:
            raise ValueError(
                f"safety.watchdog_s must be at least {limits.WATCHDOG_MIN_PERIODS} read periods "
                f"({minimum:g} s)"
            )
        return self

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


def format_validation_error(err: ValidationError, source: str) -> str:
    lines = [f"invalid configuration ({source}):"]
    for problem in err.errors():
        where = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in problem["loc"]
        ).lstrip(".")
        lines.append(f"  {where or '(top level)'}: {problem['msg']}")
    return "\n".join(lines)


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
    data: dict[str, Any] = {}
    source = "command line"
    if path is not None:
        source = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise ConfigError(f"config file {path} does not exist") from err
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"cannot read config file {path}: {err}") from err
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"config file {path} is not valid TOML: {err}") from err
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{key} must be a table in {source}")
            node = child
        node[leaf] = value
    try:
        config = DaemonConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source)) from None
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
    return config.model_copy(
        update={
            "server": server.model_copy(update={"token": token or "", "token_file": None}),
            "dialout": dialout.model_copy(
                update={"token": server_token or dialout.token, "token_file": None}
            ),
        }
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
