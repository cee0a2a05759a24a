"""``beerpi-web``: parse the command line, build the configuration, run the service."""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
from pathlib import Path
from typing import Any

from .config import ConfigError, WebConfig, check_secrets, load_config, server_ssl_context


# Long on purpose: the flat list of the service's command-line options, one add_argument each.
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beerpi-web", description="BeerPi history service: links to daemons, API, pages"
    )
    parser.add_argument("--config", type=Path, help="TOML file (see deploy/web.example.toml)")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8080)")
    parser.add_argument("--data-dir", type=Path, help="media cache, session key, SQLite file")
    store = parser.add_mutually_exclusive_group()
    store.add_argument("--mongo-url", help="MongoDB URL for the history (default: SQLite)")
    store.add_argument("--db", type=Path, help="SQLite history file")
    parser.add_argument(
        "--daemon", action="append", default=[], metavar="URL", help="ws://HOST:PORT to dial in to"
    )
    parser.add_argument(
        "--daemon-token",
        action="append",
        default=[],
        metavar="T",
        help="token of the matching --daemon (one for all, or one per --daemon); "
        "prefer --daemon-token-file",
    )
    parser.add_argument(
        "--daemon-token-file",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="file holding the token of the matching --daemon (or BEERPI_DAEMON_TOKEN)",
    )
    parser.add_argument(
        "--device-token",
        action="append",
        default=[],
        metavar="ID=T",
        help="accept dial-out from device ID with token T (prefer --device-tokens-file)",
    )
    parser.add_argument(
        "--device-tokens-file",
        type=Path,
        metavar="FILE",
        help='TOML file of dial-out devices and their tokens: "ID" = "TOKEN" per line',
    )
    parser.add_argument("--redis-url", help="share live traffic between processes via Redis")
    parser.add_argument("--user", help="login name for the pages")
    parser.add_argument(
        "--password-file",
        type=Path,
        help="file holding the password or its hash (or BEERPI_WEB_PASSWORD)",
    )
    parser.add_argument("--api-token", help="bearer token for scripts (prefer --api-token-file)")
    parser.add_argument(
        "--api-token-file", type=Path, help="file holding the API token (or BEERPI_API_TOKEN)"
    )
    parser.add_argument(
        "--public-read",
        action="store_true",
        default=None,
        help="readings and live state need no login",
    )
    parser.add_argument(
        "--public-details",
        action="store_true",
        default=None,
        help="with --public-read, also photos, videos, fault messages and versions",
    )
    parser.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="URL",
        help="another web origin whose pages may use the API and /live (e.g. a proxy's URL)",
    )
    parser.add_argument("--tls-cert", type=Path, help="serve HTTPS with this certificate")
    parser.add_argument("--tls-key", type=Path, help="the certificate's private key")
    parser.add_argument(
        "--retention-days",
        type=float,
        help="drop raw readings older than this many days; graphs keep the 10-minute"
        " and coarser rollups (default: keep all)",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    return parser


def _per_daemon(values: list[Any], daemons: int, flag: str) -> list[Any]:
    """One value for every --daemon, or one each; none leaves it to the environment."""
    if not values:
        return [None] * daemons
    if len(values) not in (1, daemons):
        raise ConfigError(f"give one {flag}, or one per --daemon")
    return values * daemons if len(values) == 1 else values


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    if args.daemon_token and args.daemon_token_file:
        raise ConfigError("give --daemon-token or --daemon-token-file, not both")
    if args.api_token is not None and args.api_token_file is not None:
        raise ConfigError("give --api-token or --api-token-file, not both")
    tokens = _per_daemon(args.daemon_token, len(args.daemon), "--daemon-token")
    token_files = _per_daemon(args.daemon_token_file, len(args.daemon), "--daemon-token-file")
    daemons = []
    for url, token, token_file in zip(args.daemon, tokens, token_files, strict=True):
        link: dict[str, Any] = {"url": url}
        if token is not None:
            link["token"] = token
        if token_file is not None:
            link["token_file"] = str(token_file)
        daemons.append(link)
    device_tokens: dict[str, str] = {}
    for item in args.device_token:
        device, sep, token = item.partition("=")
        if not sep or not device or not token:
            raise ConfigError(f"--device-token must be ID=TOKEN, got {item!r}")
        device_tokens[device] = token
    return {
        "host": args.host,
        "port": args.port,
        "data_dir": None if args.data_dir is None else str(args.data_dir),
        "mongo_url": args.mongo_url,
        "db": None if args.db is None else str(args.db),
        "daemons": daemons or None,
        "device_tokens": device_tokens or None,
        "device_tokens_file": None
        if args.device_tokens_file is None
        else str(args.device_tokens_file),
        "redis_url": args.redis_url,
        "user": args.user,
        "password_file": None if args.password_file is None else str(args.password_file),
        "api_token": args.api_token,
        "api_token_file": None if args.api_token_file is None else str(args.api_token_file),
        "public_read": args.public_read,
        "public_details": args.public_details,
        "allowed_origins": args.allowed_origin or None,
        "retention_days": args.retention_days,
        "tls_cert": None if args.tls_cert is None else str(args.tls_cert),
        "tls_key": None if args.tls_key is None else str(args.tls_key),
    }


def parse(argv: list[str] | None = None) -> tuple[WebConfig, str]:
    args = build_parser().parse_args(argv)
    return load_config(args.config, overrides_from(args)), args.log_level


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Ctrl-C while starting (imports, the store opening): no traceback, the
        # shell's code for an interrupt. Once running, aiohttp stops cleanly on it.
        print("beerpi-web: interrupted while starting", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    try:
        config, log_level = parse(argv)
        check_secrets(config)  # before the slow imports: a weak token fails fast
    except ConfigError as err:
        print(f"beerpi-web: {err}", file=sys.stderr)
        return 2
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("aiohttp.access", "engineio", "socketio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from aiohttp import web

    from .app import IDLE_TIMEOUT_S, create_app

    try:
        app = create_app(config)
        tls = server_ssl_context(config)
    except ConfigError as err:
        print(f"beerpi-web: {err}", file=sys.stderr)
        return 2
    scheme = "https" if tls else "http"
    started = False

    def announce(_aiohttp_banner: str) -> None:
        # Called once the port is bound: a service that cannot listen never says it runs.
        nonlocal started
        started = True
        logging.getLogger("web_extras").info(
            "BeerPi web service on %s://%s:%d/", scheme, config.host, config.port
        )

    try:
        web.run_app(
            app,
            host=config.host,
            port=config.port,
            ssl_context=tls,
            print=announce,
            handler_cancellation=True,
            # An idle connection (one that sends no request) is closed this soon.
            keepalive_timeout=IDLE_TIMEOUT_S,
        )
    except Exception as err:
        message = None if started else _start_failure(config, err)
        if message is None:
            raise  # not a start-up problem a brewer can fix: the traceback is what to report
        print(f"beerpi-web: {message}", file=sys.stderr)
        return 2
    return 0


def _start_failure(config: WebConfig, err: Exception) -> str | None:
    """One line for a start that failed before the service listened; None if unforeseen."""
    module = type(err).__module__.split(".")[0]
    if module in ("pymongo", "redis"):
        # Their messages name host and port, never the URL's password; the topology
        # dump pymongo appends says no more to a brewer.
        text = str(err).split(" (configured timeouts")[0].split(", Timeout:")[0]
        where = "the history in MongoDB (mongo_url)" if module == "pymongo" else "Redis (redis_url)"
        return f"cannot reach {where}: {text}"
    if isinstance(err, ConfigError):
        return str(err)
    if isinstance(err, sqlite3.DatabaseError):
        path = config.sqlite_path
        if isinstance(err, sqlite3.OperationalError):
            return f"cannot open the history {path}: {err}"
        return (
            f"the history {path} cannot be opened ({err}); it may be corrupt: "
            "move it away to start a new one"
        )
    if isinstance(err, OSError) and not isinstance(err, FileNotFoundError | PermissionError):
        # Binding: the port taken, or a host that is not this machine's.
        return f"cannot listen on {config.host}:{config.port}: {err.strerror or err}"
    if isinstance(err, OSError):
        return str(err)
    return None


if __name__ == "__main__":
    sys.exit(main())
