"""``beerpi-daemon``: command-line options over the TOML config."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from . import __version__
from .config import ConfigError, check_secrets, load_config

DESCRIPTION = """\
Run BeerPi on a Raspberry Pi: read the temperature probes, run the thermostat
and its safety rules, switch the heater and cooler relays, take photos, and
serve all of it over socket.io (Home Assistant, the BeerPi web service).

Try it without a Pi:
  python3 -c 'import secrets; print(secrets.token_urlsafe(24))' > token; chmod 600 token
  beerpi-daemon --simulate --token-file token --data-dir /tmp/beerpi

On a Pi, put probes and relays in a TOML file and the token in a file it names
(token_file in [server]); `beerpi-daemon --init-config FILE` writes both:
  beerpi-daemon --config /etc/beerpi/daemon.toml

Secrets never need to be on the command line (where `ps` shows them to every
local user): --token-file and --server-token-file read them from files, and
BEERPI_TOKEN and BEERPI_SERVER_TOKEN from the environment. A token must be
strong (at least 16 characters, not a placeholder); the daemon refuses to start
with a weak one.
"""


# Long on purpose: the flat list of the daemon's command-line options, one add_argument each.
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beerpi-daemon",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", type=Path, metavar="FILE.toml", help="configuration file")
    parser.add_argument(
        "--simulate",
        action="store_true",
        default=None,
        help="simulated fermenter, probes, relays and camera (no hardware needed)",
    )
    parser.add_argument("--host", help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8765)")
    parser.add_argument(
        "--token", help="secret that clients must prove they know (prefer --token-file)"
    )
    parser.add_argument(
        "--token-file", type=Path, metavar="FILE", help="file holding the token (or BEERPI_TOKEN)"
    )
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="outbox, profile, photos")
    parser.add_argument(
        "--record-interval",
        type=float,
        metavar="SECONDS",
        help="how often readings go to the history outbox (default 60)",
    )
    parser.add_argument(
        "--read-interval", type=float, metavar="SECONDS", help="probe read period (default 5)"
    )
    parser.add_argument(
        "--sim-speed",
        type=float,
        metavar="FACTOR",
        help="run the simulation FACTOR times faster than real time (timers, timestamps too)",
    )
    parser.add_argument(
        "--server", metavar="URL", help="BeerPi web service to connect out to (Pi behind NAT)"
    )
    parser.add_argument(
        "--server-token", metavar="T", help="this device's token on --server (prefer the file)"
    )
    parser.add_argument(
        "--server-token-file",
        type=Path,
        metavar="FILE",
        help="file holding this device's token on --server (or BEERPI_SERVER_TOKEN)",
    )
    parser.add_argument(
        "--no-zeroconf", action="store_true", help="do not advertise on the local network"
    )
    parser.add_argument(
        "--init-config",
        type=Path,
        metavar="FILE.toml",
        help="write a starting config with a new token (mode 0600) and exit",
    )
    parser.add_argument(
        "--list-probes",
        action="store_true",
        help="list the DS18B20 probes on the 1-Wire bus and exit",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    parser.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)
    return parser


def _secret_overrides(section: str, value: str | None, file: Path | None) -> dict[str, Any]:
    """A secret from the command line replaces the config file's, whichever form it had."""
    if value is not None:
        return {f"{section}.token": value, f"{section}.token_file": None}
    if file is not None:
        return {f"{section}.token": "", f"{section}.token_file": str(file)}
    return {}


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    if args.token is not None and args.token_file is not None:
        raise ConfigError("give --token or --token-file, not both")
    if args.server_token is not None and args.server_token_file is not None:
        raise ConfigError("give --server-token or --server-token-file, not both")
    mapping = {
        "simulate": args.simulate,
        "server.host": args.host,
        "server.port": args.port,
        "storage.data_dir": None if args.data_dir is None else str(args.data_dir),
        "storage.record_interval_s": args.record_interval,
        "sampling.read_interval_s": args.read_interval,
        "simulation.speed": args.sim_speed,
        "dialout.server": args.server,
        "zeroconf.enabled": False if args.no_zeroconf else None,
    }
    overrides = {key: value for key, value in mapping.items() if value is not None}
    overrides.update(_secret_overrides("server", args.token, args.token_file))
    overrides.update(_secret_overrides("dialout", args.server_token, args.server_token_file))
    return overrides


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Ctrl-C while starting (the imports take a second or two on a Pi): no relay
        # was claimed yet (run() handles signals from before it claims them), so no
        # traceback, and the shell's code for an interrupt.
        print("beerpi-daemon: interrupted while starting", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("aiohttp.access", "engineio", "socketio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.list_probes:
        return list_probes()
    if args.init_config is not None:
        return init_config(args.init_config)
    if args.sim_speed is not None and not args.simulate:
        print("beerpi-daemon: --sim-speed needs --simulate", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config, overrides_from(args))
        check_secrets(config)
    except ConfigError as err:
        print(f"beerpi-daemon: {err}", file=sys.stderr)
        return 2
    from .app import run_blocking

    return run_blocking(config, ready_file=args.ready_file)


def init_config(path: Path) -> int:
    from .init_config import write_initial_config

    try:
        write_initial_config(path)
    except FileExistsError:
        print(f"beerpi-daemon: {path} exists; not overwriting it", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"beerpi-daemon: cannot write {path}: {err}", file=sys.stderr)
        return 2
    # A venv's program is not on PATH (/opt/beerpi/venv/bin/...): name the one that ran.
    program = sys.argv[0] if Path(sys.argv[0]).name == "beerpi-daemon" else "beerpi-daemon"
    print(f"wrote {path} (mode 0600) with a new token; edit the probes and pins, then run")
    print(f"  {program} --config {path}")
    return 0


def list_probes() -> int:
    from .hardware.w1_probes import W1BusError, list_w1_sensors

    try:
        sensors = list_w1_sensors()
    except W1BusError as err:
        print(f"beerpi-daemon: {err}", file=sys.stderr)
        return 1
    if not sensors:
        print("no 1-Wire temperature probes found (is dtoverlay=w1-gpio in config.txt?)")
        return 1
    for sensor in sensors:
        print(f"{sensor.sensor_id}\t{sensor.kind}")
    return 0
