"""The web service's configuration: a TOML file, then command-line overrides, validated once."""

from __future__ import annotations

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
    # Raw readings older than this many days are rolled up into hourly
    # min/mean/max buckets (graphs still show them); None keeps every reading.
    retention_days: Annotated[float, Field(gt=0, le=36_500, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
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
