"""Assembles the daemon from its config and runs it until a signal (STOP_SIGNALS) stops it.

Only those signals (or ``stop`` in tests) end it: the control loop and the
dial-out link run under a supervisor that restarts them, and whatever a client
or the web service does only ever raises a fault. Relays are off at start
(each backend claims its pin switched off) and are switched off again in a
``finally`` on every way out: a clean stop, a signal, or a crash while starting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import ssl
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from beerpi_guard.config_file import prepare_data_dir, shown_path
from beerpi_guard.tls import server_context
from beerpi_protocol import PROTOCOL_VERSION, DeviceInfo, ProbeInfo, RelayInfo, ThermostatInfo

from . import __version__
from .advertise import Advertiser
from .clock import Clock, ScaledClock, SystemClock
from .config import ConfigError, DaemonConfig
from .control_adapter import build_thermostat
from .files import DataDirBusy, lock_data_dir, write_atomic
from .hardware.factory import build_hardware
from .media import MediaStore
from .outbox import OUTBOX_COMPANIONS, Outbox, OutboxError, OutboxUnwritable
from .requests import RequestHandler
from .server import IDLE_TIMEOUT_S, build_server
from .service import Daemon, Hardware
from .set_aside import SetAside, move_aside
from .supervise import supervise

_LOGGER = logging.getLogger(__name__)
# Open connections get this long to finish at exit (relays are already off):
# a websocket whose client does not close it would otherwise hold the exit up.
SHUTDOWN_TIMEOUT_S = 0.5
# The whole server close (sockets, engine.io sessions) gets at most this long.
SERVER_CLOSE_TIMEOUT_S = 3.0
# Every signal whose default is to end the process ends the daemon through its own
# shutdown (relays off first): SIGHUP comes when the terminal of a foreground run
# closes. SIGKILL cannot be caught; the relays' off-by-default wiring is for that.
STOP_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM")
    if hasattr(signal, name)
)


def device_id(config: DaemonConfig) -> str:
    """The configured id, else one generated once and kept in the data dir."""
    if config.device.id:
        return config.device.id
    path = config.storage.data_dir / "device.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(stored, dict) and isinstance(stored.get("id"), str) and stored["id"]:
            return str(stored["id"])
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as err:
        raise ConfigError(
            f'{path} is unreadable ({err}); fix it (it holds {{"id": "beerpi-..."}}, the id '
            "Home Assistant and the web service know this Pi by) or remove it for a new id "
            "(a new device to both)"
        ) from err
    new_id = f"beerpi-{secrets.token_hex(4)}"
    write_atomic(path, json.dumps({"id": new_id}) + "\n")
    return new_id


BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_id(path: Path = BOOT_ID) -> str | None:
    """The machine's boot id (new at every boot), None where the system has none."""
    try:
        return path.read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def describe(config: DaemonConfig, hardware: Hardware, dev_id: str) -> DeviceInfo:
    t = config.thermostat
    return DeviceInfo(
        id=dev_id,
        name=config.device.name,
        manufacturer="BeerPi",
        model="BeerPi simulator" if config.simulate else "BeerPi on Raspberry Pi",
        sw_version=__version__,
        protocol_version=PROTOCOL_VERSION,
        simulated=config.simulate,
        probes=tuple(ProbeInfo(id=p.id, name=p.name or p.id) for p in config.probes),
        relays=tuple(RelayInfo(id=r.id, name=r.name or r.id) for r in config.relays),
        camera=hardware.camera is not None,
        thermostat=ThermostatInfo(
            probe=t.probe,
            heater=t.heater,
            cooler=t.cooler,
            min_target=t.min_target,
            max_target=t.max_target,
        ),
        capabilities=tuple(
            ["thermostat", "profiles", "readings_since"]
            + (["camera", "video"] if hardware.camera is not None else [])
            + (["simulate"] if config.simulate else [])
        ),
        boot_id=boot_id(),
    )


def ssl_context(config: DaemonConfig) -> ssl.SSLContext | None:
    return server_context(config.server.tls_cert, config.server.tls_key, ConfigError)


def make_clock(config: DaemonConfig, last_recorded: datetime | None = None) -> Clock:
    """The wall clock, or in a fast simulation a scaled one.

    A restarted fast simulation carries on from its last recorded reading, so
    its timestamps never go back (the wall clock is behind the simulated one).
    """
    if config.simulate and config.simulation.speed != 1.0:
        start = datetime.now(UTC)
        if last_recorded is not None and last_recorded >= start:
            start = last_recorded + timedelta(seconds=config.sampling.read_interval_s)
        return ScaledClock(config.simulation.speed, start=start)
    return SystemClock()


async def run(
    config: DaemonConfig,
    *,
    ready_file: Path | None = None,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[Daemon], None] | None = None,
) -> None:
    """Run until one of STOP_SIGNALS, or until ``stop`` is set when one is given (tests)."""
    if not config.server.token:
        raise ConfigError("a token is required: --token, or token in [server] of the config")
    data_dir = config.storage.data_dir
    prepare_data_dir(data_dir, "the data dir", ConfigError)
    lock = _lock(data_dir)
    try:
        await _run(config, data_dir, ready_file=ready_file, stop=stop, on_ready=on_ready)
    finally:
        os.close(lock)  # after the relays went off: no second daemon takes over before


def _lock(data_dir: Path) -> int:
    try:
        return lock_data_dir(data_dir)
    except DataDirBusy as err:
        raise ConfigError(
            f"another beerpi-daemon (pid {err.owner or 'unknown'}) is running on the data dir "
            f"{shown_path(data_dir)}: two would switch the same relays; stop it first "
            "(sudo systemctl stop beerpi-daemon)"
        ) from None
    except OSError as err:
        raise ConfigError(
            f"cannot write in the data dir {shown_path(data_dir)}: {err.strerror}"
        ) from err


async def open_outbox(
    config: DaemonConfig, path: Path
) -> tuple[Outbox, str | None, list[SetAside]]:
    """The outbox, why it is kept in memory (None when on disk), and the file moved aside.

    A full or failing card after a power cut: the beer matters more than the graph,
    so control starts with the readings kept in memory (served to the history
    service as usual) and a `storage` fault that says so. A damaged outbox (or a
    newer BeerPi's) is moved aside, its unsent readings kept in it, and a new one
    started.
    """

    def new_outbox(where: Path) -> Outbox:
        return Outbox(
            where,
            max_age_s=config.storage.outbox_max_age_days * 86400,
            max_rows=config.storage.outbox_max_rows,
        )

    async def in_memory(err: OutboxError) -> tuple[Outbox, str]:
        outbox = new_outbox(Path(":memory:"))
        await outbox.open()
        return outbox, f"{err}; readings are kept in memory only until a restart"

    outbox = new_outbox(path)
    try:
        await outbox.open()
    except OutboxUnwritable as err:
        await outbox.close()
        return *await in_memory(err), []
    except OutboxError as err:
        await outbox.close()
        damage = str(err)
    else:
        return outbox, None, []
    kept_as = move_aside(path, datetime.now(UTC), OUTBOX_COMPANIONS)
    outbox = new_outbox(path)
    unusable: str | None = None
    try:
        await outbox.open()
    except OutboxError as err:  # not moved (a read-only card), or the new one refused
        await outbox.close()
        outbox, unusable = await in_memory(err)
    old = "the old file" if kept_as is not None else "the damaged file"
    instead = (
        "a new outbox was started"
        if unusable is None
        else "readings are kept in memory until a restart"
    ) + f" (readings the history service had not fetched are in {old})"
    record = SetAside(path=path, why=damage, instead=instead, kept_as=kept_as)
    _LOGGER.error("%s", record.message())
    return outbox, unusable, [record]


# Long on purpose: one try/finally owns everything the daemon starts (hardware, outbox, server,
# links), so the relays go off on every way out; split, that guarantee would be spread over several
# functions.
async def _run(
    config: DaemonConfig,
    data_dir: Path,
    *,
    ready_file: Path | None,
    stop: asyncio.Event | None,
    on_ready: Callable[[Daemon], None] | None,
) -> None:
    dev_id = device_id(config)
    tls = ssl_context(config)
    hardware: Hardware | None = None
    outbox: Outbox | None = None
    runner: web.AppRunner | None = None
    advertiser: Advertiser | None = None
    handler: RequestHandler | None = None
    daemon: Daemon | None = None
    tasks: list[asyncio.Task[Any]] = []
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
    try:
        outbox_path = data_dir / "outbox.sqlite3"
        outbox, outbox_unwritable, outbox_set_aside = await open_outbox(config, outbox_path)
        clock = make_clock(config, await outbox.latest_timestamp())
        hardware = build_hardware(config, clock)
        media = MediaStore(
            data_dir / "media",
            keep_photos=config.storage.keep_photos,
            keep_videos=config.storage.keep_videos,
        )
        thermostat = build_thermostat(config, data_dir, clock)
        device = describe(config, hardware, dev_id)
        daemon = Daemon(config, hardware, clock, outbox, media, device, thermostat)
        if outbox_unwritable is not None:
            _LOGGER.error("%s", outbox_unwritable)
            await daemon.outbox_file_unusable(outbox_unwritable)
        await daemon.files_were_set_aside(
            [*outbox_set_aside, *thermostat.set_aside, *daemon.set_aside]
        )
        daemon.start_watchdog()
        handler = RequestHandler(daemon)
        # The control loop first: a request is served only once the safety rules have
        # judged the probes (a manual heater on a beer above its cut-off was accepted in
        # the second or two before the first step).
        tasks.append(
            asyncio.create_task(supervise("control loop", daemon.run, stop), name="beerpi-loop")
        )
        await _first_assessment(daemon, stop)
        if stop.is_set():
            return
        app, _sio, _ns = build_server(daemon, handler)
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
            keepalive_timeout=IDLE_TIMEOUT_S,
        )
        await runner.setup()
        site = web.TCPSite(runner, config.server.host, config.server.port, ssl_context=tls)
        try:
            await site.start()
        except OSError as err:
            raise ConfigError(
                f"cannot listen on {config.server.host}:{config.server.port}: {err.strerror}"
            ) from err
        await hardware.start_hydrometers()
        scheme = "https" if tls else "http"
        url = f"{scheme}://{config.server.host}:{config.server.port}"
        _LOGGER.info("device %s (%s) listening on %s", dev_id, device.model, url)
        print(f"BeerPi daemon ready on {url}", flush=True)
        if ready_file is not None:
            write_atomic(ready_file, url + "\n")
        if on_ready is not None:
            on_ready(daemon)
        if config.zeroconf.enabled:
            advertiser = Advertiser(device, config.server.host, config.server.port)
            await advertiser.start()
        if config.dialout.server:
            from .dialout import DialOut

            dialout = DialOut(
                daemon,
                handler,
                config.dialout,
                control_rate_per_s=config.server.control_rate_per_s,
            )
            tasks.append(
                asyncio.create_task(supervise("dial-out", dialout.run, stop), name="beerpi-dialout")
            )
        # Only a signal (or the caller's stop) ends the daemon; supervised tasks never do.
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()  # relays go off below whatever step they were in
        await asyncio.gather(*tasks, return_exceptions=True)
        # Relays off before anything else can fail.
        if daemon is not None:
            daemon.shutdown_relays()
            daemon.stop_watchdog()
        if hardware is not None:
            hardware.close()
            _LOGGER.info("relays off; shutting down")
            await hardware.close_hydrometers()
        if daemon is not None:
            await daemon.keep_history(now=True)
            await daemon.keep_gravity(now=True)
        if advertiser is not None:
            await advertiser.stop()
        if handler is not None:
            await handler.close()
        if runner is not None:
            try:
                await asyncio.wait_for(runner.cleanup(), SERVER_CLOSE_TIMEOUT_S)
            except TimeoutError:
                # engine.io can wait for ever to flush a socket whose writer is gone
                # (seen on Python 3.11 after refused handshakes); the relays are off
                # already, so a stop never hangs on it.
                _LOGGER.warning(
                    "the server did not close within %g s; stopping anyway",
                    SERVER_CLOSE_TIMEOUT_S,
                )
        if outbox is not None:
            await outbox.close()


async def _first_assessment(daemon: Daemon, stop: asyncio.Event) -> None:
    """Until the first control step has judged the probes (or a stop comes first)."""
    assessed = asyncio.ensure_future(daemon.assessed.wait())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({assessed, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        assessed.cancel()
        stopping.cancel()


def run_blocking(config: DaemonConfig, *, ready_file: Path | None = None) -> int:
    try:
        asyncio.run(run(config, ready_file=ready_file))
    except ConfigError as err:
        print(f"beerpi-daemon: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0
