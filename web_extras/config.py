"""The web service's configuration: a TOML file, then command-line overrides, validated once."""

from __future__ import annotations

import ssl
import tomllib
from pathlib import Path
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0, le=86_400 * 365, allow_inf_nan=False)]


class ConfigError(ValueError):
    """The configuration cannot be used; the message says why, for people."""


class _Section(BaseModel):
    # A typo in a key must fail loudly, not leave a setting at its default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class DaemonLink(_Section):
    """A daemon the service dials in to (``ws://HOST:PORT``; ``wss://`` for TLS)."""

    url: str
    token: Annotated[str, Field(min_length=1)]
    # For a wss:// daemon with a self-signed certificate: the certificate (or CA) to trust.
    ca_file: Path | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("ws", "wss", "http", "https") or not parts.hostname:
            raise ValueError(f"daemon URL must look like ws://HOST:PORT, got {value!r}")
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


class WebConfig(_Section):
    host: str = "127.0.0.1"
    port: Port = 8080
    # Media cache, session key and (by default) the SQLite history live here.
    data_dir: Path = Path("beerpi-web-data")
    mongo_url: str | None = None
    db: Path | None = None
    daemons: list[DaemonLink] = Field(default_factory=list)
    # Dial-out: device id -> the token that device must present on /devices.
    device_tokens: dict[str, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)
    redis_url: str | None = None
    user: str | None = None
    password_file: Path | None = None
    api_token: Annotated[str, Field(min_length=8)] | None = None
    public_read: bool = False
    session_max_age_s: Seconds = 30 * 86_400
    request_timeout_s: Seconds = 10.0
    # Raw readings older than this many days are dropped; the rollups kept at
    # ingest (10 min and coarser) stay, so graphs still show them. None keeps
    # every reading.
    retention_days: Annotated[float, Field(gt=0, le=36_500, allow_inf_nan=False)] | None = None
    # Serve HTTPS/WSS with this certificate and key.
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if self.mongo_url and self.db is not None:
            raise ValueError("give either mongo_url or db (SQLite), not both")
        if (self.user is None) != (self.password_file is None):
            raise ValueError("user and password_file go together")
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
    if config.tls_cert is None or config.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except (OSError, ssl.SSLError) as err:
        raise ConfigError(f"cannot load TLS certificate/key: {err}") from err
    return context


def client_ssl_context(link: DaemonLink) -> ssl.SSLContext | None:
    """Trust exactly the daemon's own certificate when one is given."""
    if link.ca_file is None:
        return None
    try:
        return ssl.create_default_context(cafile=str(link.ca_file))
    except (OSError, ssl.SSLError) as err:
        raise ConfigError(f"cannot load {link.ca_file} for {link.url}: {err}") from err


def load_config(path: Path | None, overrides: dict[str, Any] | None = None) -> WebConfig:
    """Read the TOML file (if any), let non-None overrides win, validate."""
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
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key in ("daemons",):  # lists from the command line add to the file's
            data[key] = [*data.get(key, []), *value]
        elif key == "device_tokens":
            data[key] = {**data.get(key, {}), **value}
        else:
            data[key] = value
    try:
        return WebConfig.model_validate(data)
    except ValidationError as err:
        lines = [f"invalid configuration ({source}):"]
        for problem in err.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "(top level)"
            lines.append(f"  {where}: {problem['msg']}")
        raise ConfigError("\n".join(lines)) from None
