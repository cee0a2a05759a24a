"""The web service's configuration: a TOML file, then command-line overrides, validated once."""

from __future__ import annotations

import difflib
import os
import re
import ssl
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from beerpi_guard.config_file import invalid_config, problem_line, read_toml
from beerpi_guard.origins import check_origins
from beerpi_guard.tls import server_context
from beerpi_guard.tokens import WeakSecretError, check_token, read_secret_file, resolve_secret

from .alerts.settings import AlertsConfig

Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0, le=86_400 * 365, allow_inf_nan=False)]
# What a device id may look like: it names files, URLs and log lines.
DEVICE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


_URL_SCHEMES = {
    "mongo_url": ("mongodb", "mongodb+srv"),
    "redis_url": ("redis", "rediss", "unix"),
}


class ConfigError(ValueError):
    """The configuration cannot be used; the message says why, for people."""


class _Section(BaseModel):
    # A typo in a key must fail loudly, not leave a setting at its default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class DaemonLink(_Section):
    """A daemon the service dials in to (``ws://HOST:PORT``; ``wss://`` for TLS)."""

    url: str
    # The daemon's token, or a file holding it (BEERPI_DAEMON_TOKEN is the fallback).
    token: str = ""
    token_file: Path | None = None
    # The only device this entry links (proven in the handshake); learned at the
    # first connect and kept in <data_dir>/daemon-pins.json when not given.
    device_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] | None = None
    # For a wss:// daemon with a self-signed certificate: the certificate (or CA) to trust.
    ca_file: Path | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("ws", "wss", "http", "https") or not parts.hostname:
            raise ValueError(f"daemon URL must look like ws://HOST:PORT, got {value!r}")
        # Read here, not first at the start (the links), where a port of 99999 or 8x
        # was a ValueError traceback.
        parts.port  # noqa: B018 - raises ValueError, which pydantic reports by key
        return value

    @property
    def host(self) -> str:
        host = urlsplit(self.url).hostname
        assert host is not None  # checked by the validator
        return host

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 8765

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme in ("wss", "https")


class Hydrometer(_Section):
    """An iSpindel (or fork) that posts to /api/hydrometers/ispindel, and where it floats."""

    # The fermenter (device id) whose beer it measures.
    device: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    # Its own token, or the hydrometer's line in hydrometer_tokens_file.
    token: str = ""
    # What its "gravity" number is when the post does not say (GravityMon sends
    # "gravity-unit"; the original iSpindel sends whatever its polynomial gives).
    # "auto": 0.990-1.200 is SG, anything else degrees Plato.
    gravity_unit: Literal["auto", "SG", "P"] = "auto"


class WebConfig(_Section):
    host: str = "127.0.0.1"
    port: Port = 8080
    # Media cache, session key and (by default) the SQLite history live here.
    data_dir: Path = Path("beerpi-web-data")
    mongo_url: str | None = None
    db: Path | None = None
    daemons: list[DaemonLink] = Field(default_factory=list)
    # Dial-out: device id -> the token that device must present on /devices; or a
    # TOML file of such pairs (kept out of a config file others may read).
    device_tokens: dict[str, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)
    device_tokens_file: Path | None = None
    # Hydrometers posting over HTTP: id -> where it floats and its token; the
    # tokens may live in a TOML file of their own (id = token).
    hydrometers: dict[str, Hydrometer] = Field(default_factory=dict)
    hydrometer_tokens_file: Path | None = None
    redis_url: str | None = None
    user: str | None = None
    # The password (or its scrypt hash) in a file, or in BEERPI_WEB_PASSWORD.
    password_file: Path | None = None
    # Bearer token for scripts: api_token, api_token_file or BEERPI_API_TOKEN.
    api_token: str | None = None
    api_token_file: Path | None = None
    # Readings and live state without a login; photos, videos, fault messages and
    # versions still need one unless public_details is also set.
    public_read: bool = False
    public_details: bool = False
    # Web pages of other origins (a reverse proxy's public URL when it does not
    # pass Host on, Home Assistant) allowed to use the API and /live from a browser.
    allowed_origins: list[str] = Field(default_factory=list)
    # Connections that have not authenticated: at most this many at once, each
    # closed if it has not authenticated within auth_timeout_s.
    max_unauthenticated: Annotated[int, Field(ge=1, le=100_000)] = 128
    auth_timeout_s: Annotated[float, Field(gt=0, le=60, allow_inf_nan=False)] = 5.0
    max_browsers: Annotated[int, Field(ge=1, le=1_000_000)] = 2000
    # What one device may send (beyond it gets a clear error in the log; the link stays).
    max_media_bytes: Annotated[int, Field(ge=1024, le=2**34)] = 256 * 2**20
    max_readings_per_minute: Annotated[int, Field(ge=10, le=10_000_000)] = 12_000
    max_probes_per_device: Annotated[int, Field(ge=1, le=1000)] = 32
    max_events_per_minute: Annotated[int, Field(ge=1, le=100_000)] = 120
    session_max_age_s: Seconds = 30 * 86_400
    request_timeout_s: Seconds = 10.0
    # Raw readings older than this many days are dropped; the rollups kept at
    # ingest (10 min and coarser) stay, so graphs still show them. None keeps
    # every reading.
    retention_days: Annotated[float, Field(gt=0, le=36_500, allow_inf_nan=False)] | None = None
    # Serve HTTPS/WSS with this certificate and key.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Notifications through Apprise ([alerts]; see web_extras/alerts/settings.py).
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)

    @field_validator("mongo_url", "redis_url")
    @classmethod
    def _store_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        schemes = _URL_SCHEMES[info.field_name or ""]
        if value is not None and urlsplit(value).scheme not in schemes:
            # Not echoed: the URL may hold a password.
            raise ValueError(f"should start with {' or '.join(f'{s}://' for s in schemes)}")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return check_origins(value)

    @field_validator("device_tokens")
    @classmethod
    def _device_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for device in value:
            if not DEVICE_ID.fullmatch(device):
                raise ValueError(f"device id {device[:80]!r} must match {DEVICE_ID.pattern}")
        return value

    @field_validator("hydrometers")
    @classmethod
    def _hydrometer_ids(cls, value: dict[str, Hydrometer]) -> dict[str, Hydrometer]:
        for hydrometer in value:
            if not DEVICE_ID.fullmatch(hydrometer):
                raise ValueError(
                    f"hydrometer id {hydrometer[:80]!r} must match {DEVICE_ID.pattern}"
                )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if self.mongo_url and self.db is not None:
            raise ValueError("give either mongo_url or db (SQLite), not both")
        if self.password_file is not None and self.user is None:
            raise ValueError("password_file needs user")
        if self.public_details and not self.public_read:
            raise ValueError("public_details needs public_read")
        return self

    @property
    def sqlite_path(self) -> Path:
        return self.db if self.db is not None else self.data_dir / "history.sqlite"

    @property
    def login_required(self) -> bool:
        """Any credential configured means control (and, unless public_read, reads) need it."""
        return self.user is not None or self.api_token is not None


def server_ssl_context(config: WebConfig) -> ssl.SSLContext | None:
    """The HTTPS context when a certificate is configured; ConfigError if it cannot load."""
    return server_context(config.tls_cert, config.tls_key, ConfigError)


def client_ssl_context(link: DaemonLink) -> ssl.SSLContext | None:
    """Trust exactly the daemon's own certificate when one is given."""
    if link.ca_file is None:
        return None
    try:
        return ssl.create_default_context(cafile=str(link.ca_file))
    except (OSError, ssl.SSLError) as err:
        raise ConfigError(f"cannot load {link.ca_file} for {link.url}: {err}") from err


def load_config(
    path: Path | None,
    overrides: dict[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> WebConfig:
    """Read the TOML file (if any), let non-None overrides win, validate.

    Secrets given as files or in the environment are read here, so the rest of
    the service sees ``api_token``, ``device_tokens`` and each daemon's ``token``.
    """
    data, source = read_toml(path, ConfigError)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key in ("daemons", "allowed_origins"):  # command-line lists add to the file's
            data[key] = [*data.get(key, []), *value]
        elif key == "device_tokens":
            data[key] = {**data.get(key, {}), **value}
        else:
            data[key] = value
    _merge_alert_targets(data)
    try:
        config = WebConfig.model_validate(data)
    except ValidationError as err:
        given = {k for k, v in (overrides or {}).items() if v is not None}
        raise ConfigError(_describe(err, source, given if path is not None else ())) from None
    try:
        return _with_secrets(config, os.environ if environ is None else environ, source)
    except WeakSecretError as err:
        raise ConfigError(str(err)) from None


def _secret_table(path: Path, what: str) -> dict[str, Any]:
    """A TOML table of secrets kept in a file of its own; ``what`` names its option.

    WeakSecretError when the file cannot be read; ConfigError when it is not TOML
    (tomllib names the line, never the content).
    """
    text = read_secret_file(path, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} ({what}) is not valid TOML: {err}") from None


def _merge_alert_targets(data: dict[str, Any]) -> None:
    """Move ``[alerts] targets_file`` (a TOML table: name = Apprise URL) into the targets.

    Apprise URLs hold tokens and passwords, so they may live in a file of their own
    (mode 0600) like every other secret; merged before validation, so the rules'
    ``notify`` names are checked against them. Errors name the file, never a URL.
    """
    alerts = data.get("alerts")
    if not isinstance(alerts, dict) or "targets_file" not in alerts:
        return
    alerts = dict(alerts)
    data["alerts"] = alerts
    where = alerts.pop("targets_file")
    if not isinstance(where, str) or not where:
        raise ConfigError("alerts.targets_file: give the path of a TOML file (name = URL)")
    path = Path(where)
    try:
        from_file = _secret_table(path, "alerts.targets_file")
    except WeakSecretError as err:
        raise ConfigError(str(err)) from None
    targets = alerts.get("targets", {})
    if not isinstance(targets, dict):
        return  # validation says what is wrong with [alerts.targets]
    both = sorted(set(targets) & set(from_file))
    if both:
        raise ConfigError(
            f"alert target(s) {', '.join(both)} in both [alerts.targets] and {path}: keep one"
        )
    alerts["targets"] = {**targets, **from_file}


def _describe(err: ValidationError, source: str, from_command_line: Collection[str] = ()) -> str:
    """Pydantic's problems in the daemon's words: ``daemons[0].url: what is wrong``.

    An unknown key is called one, with the key it was likely meant to be; a value out
    of range or of the wrong type is shown, unless it may be a secret (a token, a
    password, a URL, which can hold either). ``from_command_line``: the keys an option
    set over the file, said so, or the brewer would look for them in the file.
    """
    lines = []
    for problem in err.errors(include_url=False):
        loc = problem["loc"]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        if loc and loc[0] in from_command_line:
            where += " (from the command line)"
        if problem["type"] == "extra_forbidden":
            message = _unknown_key(loc)
        else:
            message = problem["msg"].removeprefix("Value error, ")
            if problem["type"] in _SHOWN_INPUT and not _secret(loc):
                message += f", not {_shown(problem['input'])}"
        lines.append(problem_line(where, message))
    return invalid_config(source, lines)


# Errors about a value's type or range, where the value itself says what went wrong.
_SHOWN_INPUT = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "int_type",
        "int_parsing",
        "int_from_float",
        "float_type",
        "float_parsing",
        "finite_number",
        "bool_type",
        "bool_parsing",
        "string_type",
        "literal_error",
    }
)
_SECRET_PARTS = ("token", "password", "url", "targets", "key")


def _secret(loc: tuple[int | str, ...]) -> bool:
    return any(
        isinstance(part, str) and any(word in part for word in _SECRET_PARTS) for part in loc
    )


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models a field holds: itself, a list's or a dict's items, each of a union."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _unknown_key(loc: tuple[int | str, ...]) -> str:
    """``unknown key``, with the closest key the table takes when one is close."""
    models: list[type[BaseModel]] = [WebConfig]
    for part in loc[:-1]:
        fields = [m.model_fields[part] for m in models if part in m.model_fields]
        if fields:  # else a list index, a dict key (a hydrometer's id) or a rule's kind
            models = [model for f in fields for model in _models_in(f.annotation)]
    known = sorted({name for model in models for name in model.model_fields})
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    guess = f"did you mean {close[0]!r}? " if close else "a typo? "
    return f"unknown key ({guess}deploy/web.example.toml lists them)"


def _with_secrets(config: WebConfig, environ: Mapping[str, str], source: str) -> WebConfig:
    daemons = []
    for i, link in enumerate(config.daemons):
        token = resolve_secret(
            f"daemons[{i}].token", link.token, link.token_file, "BEERPI_DAEMON_TOKEN", environ
        )
        if not token:
            raise ConfigError(
                f"daemons[{i}] ({link.url}) needs its token: token_file, "
                "--daemon-token-file or BEERPI_DAEMON_TOKEN"
            )
        daemons.append(link.model_copy(update={"token": token, "token_file": None}))
    device_tokens = dict(config.device_tokens)
    if config.device_tokens_file is not None:
        table = _secret_table(config.device_tokens_file, "device_tokens_file")
        try:
            from_file = WebConfig.model_validate({"device_tokens": table})
        except ValidationError as err:
            raise ConfigError(_describe(err, str(config.device_tokens_file))) from None
        device_tokens.update(from_file.device_tokens)
    hydrometers = _hydrometers_with_tokens(config)
    api_token = resolve_secret(
        "api_token", config.api_token, config.api_token_file, "BEERPI_API_TOKEN", environ
    )
    return config.model_copy(
        update={
            "daemons": daemons,
            "device_tokens": device_tokens,
            "device_tokens_file": None,
            "hydrometers": hydrometers,
            "hydrometer_tokens_file": None,
            "api_token": api_token,
            "api_token_file": None,
        }
    )


def _hydrometers_with_tokens(config: WebConfig) -> dict[str, Hydrometer]:
    """Each hydrometer with its token (from the file when given there); one token each."""
    from_file: dict[str, Any] = {}
    where = config.hydrometer_tokens_file
    if where is not None:
        from_file = _secret_table(where, "hydrometer_tokens_file")
        for hydrometer, token in from_file.items():
            if hydrometer not in config.hydrometers:
                raise ConfigError(
                    f"{where} has a token for hydrometer {hydrometer[:80]!r}, "
                    "which has no [hydrometers] entry"
                )
            if not isinstance(token, str) or not token:
                raise ConfigError(f"{where}: the token of hydrometer {hydrometer} must be text")
    hydrometers: dict[str, Hydrometer] = {}
    for hydrometer, entry in config.hydrometers.items():
        token = from_file.get(hydrometer, entry.token)
        if entry.token and hydrometer in from_file:
            raise ConfigError(f"hydrometer {hydrometer}: token both in the config and in {where}")
        if not token:
            raise ConfigError(
                f"hydrometer {hydrometer} needs a token: token = ... or hydrometer_tokens_file"
            )
        hydrometers[hydrometer] = entry.model_copy(update={"token": token})
    tokens = [entry.token for entry in hydrometers.values()]
    if len(set(tokens)) != len(tokens):
        # The token alone says which hydrometer posted.
        raise ConfigError("each hydrometer needs a token of its own (two share one)")
    return hydrometers


def check_secrets(config: WebConfig) -> None:
    """Refuse to start with a weak token anywhere (ConfigError says how to make one)."""
    try:
        if config.api_token is not None:
            check_token("api_token", config.api_token)
        for i, link in enumerate(config.daemons):
            check_token(f"the token of daemons[{i}] ({link.url})", link.token)
        for device, token in config.device_tokens.items():
            check_token(f"the dial-out token of device {device}", token)
        for hydrometer, entry in config.hydrometers.items():
            check_token(f"the token of hydrometer {hydrometer}", entry.token)
    except WeakSecretError as err:
        raise ConfigError(str(err)) from None
