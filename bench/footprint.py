"""The daemon's footprint on a Pi-like install, against a bare Python of the same run.

    python -m bench.footprint [--quick] [--python PATH]...

Four measurements per interpreter, each beside its floor measured in the same run:

- start-up: from spawning ``python -m pi_daemon --simulate`` to its first
  ``/health`` answer, against spawning ``python -c "import aiohttp.web"`` to its
  exit (the interpreter's start plus the web framework any such daemon needs);
  alternating rounds, the medians compared;
- memory and idle CPU with no client: a simulated daemon at its defaults (a read
  every 5 s, the DS18B20's 0.75 s conversion simulated) and beside it, over the
  same window, a bare ``python -c "import asyncio; asyncio.run(asyncio.sleep(...))"``
  and the same after importing the libraries the daemon cannot run without
  (LIBRARIES: the RSS floor below which no code of ours could bring it).
  RSS is sampled every second (the peak is judged, daemon plus any child
  process); CPU is user + system time over the window, in % of one core. Then a
  client connects and the probes' timestamps must be fresh: the daemon kept
  reading while nobody watched;
- the same with two idle clients connected (as Home Assistant and the web
  service would be), which must get about one push per read;
- installed size: the environment's site-packages (the daemon extra only on the
  Pi-like install), with the bytecode ``pip install`` compiles; the bench
  compiles it first (and the daemon's own packages), so start-up is not spent
  compiling sources either.

Runs on this interpreter and, when it exists, on .venv-pi: Python 3.11 (what
Raspberry Pi OS Bookworm ships) with only the daemon's dependencies, as a Pi
install has; the goals are judged there. Writes bench/results/footprint.json;
exits non-zero if a step broke.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from beerpi_protocol.client import BeerPiClient
from beerpi_protocol.errors import BeerPiError
from pi_daemon.safety.limits import READ_INTERVAL_S

from ._daemon import ROOT, BenchError, DaemonProcess, bench_parser, epoch, finish, simulated_daemon
from ._table import table

# Issue 18's goals, judged on the Pi-like install.
RSS_OVER_FLOOR_GOAL_MIB = 22.0
IDLE_CPU_GOAL_PCT = 0.05
STARTUP_GOAL_RATIO = 2.5
INSTALL_GOAL_MB = 40.0
# With two clients each read's state is built, sealed and sent twice.
CLIENTS_CPU_GOAL_PCT = 1.0
MB = 1e6
MIB = 1024 * 1024
CLIENTS = 2
# The simulated camera needs the `sim` extra (Pillow, PyAV), which a Pi install
# lacks; it imports neither before its first capture, so this costs the idle
# daemon measured here nothing.
NO_CAMERA = "[camera]\nenabled = false\n"
# What any daemon like ours imports before a line of its own: the web server, the
# socket.io server, the outbox's SQLite, the config's TOML reader and the relays'
# gpiozero (the simulation drives the real GpioRelay on gpiozero's mock pins).
LIBRARIES = "aiohttp.web, socketio, sqlite3, tomllib, gpiozero"


@dataclass
class Sizes:
    settle_s: float
    window_s: float  # the idle window (the goal's)
    clients_window_s: float
    startup_rounds: int
    # Compile bytecode first, and warm the file cache before timing start-up
    # (slow on a fresh dev environment: not in the smoke test).
    bytecode: bool


FULL = Sizes(settle_s=5.0, window_s=60.0, clients_window_s=30.0, startup_rounds=5, bytecode=True)
# The quick clients' window spans more than one default read period (one push at least).
QUICK = Sizes(settle_s=1.0, window_s=4.0, clients_window_s=6.0, startup_rounds=1, bytecode=False)


class Meter:
    """RSS samples and CPU time of one process (and its children) over the window."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.rss: list[int] = []
        self._cpu0 = 0.0
        self._t0 = 0.0
        self.cpu_pct = 0.0
        self.uss_mb: float | None = None
        self.threads = 0

    def _tree(self) -> list[psutil.Process]:
        return [self.process, *self.process.children(recursive=True)]

    def _cpu(self) -> float:
        total = 0.0
        for proc in self._tree():
            times = proc.cpu_times()
            total += times.user + times.system
        return total

    def start(self) -> None:
        self._cpu0, self._t0 = self._cpu(), time.monotonic()

    def sample(self) -> None:
        try:
            self.rss.append(sum(proc.memory_info().rss for proc in self._tree()))
        except psutil.NoSuchProcess as err:
            raise BenchError(f"process {self.process.pid} is gone mid-measurement") from err

    def stop(self) -> None:
        """End of the window: CPU, and what can only be read while the process lives."""
        self.cpu_pct = 100.0 * (self._cpu() - self._cpu0) / (time.monotonic() - self._t0)
        self.threads = self.process.num_threads()
        # USS (memory only this process holds) needs /proc/PID/smaps; optional.
        with contextlib.suppress(psutil.AccessDenied, AttributeError):
            self.uss_mb = round(self.process.memory_full_info().uss / MB, 1)

    def report(self) -> dict[str, Any]:
        return {
            "rss_peak_mb": round(max(self.rss) / MB, 1),
            "rss_end_mb": round(self.rss[-1] / MB, 1),
            "uss_end_mb": self.uss_mb,
            "cpu_pct": round(self.cpu_pct, 3),
            "threads": self.threads,
        }


@contextlib.contextmanager
def bare_python(
    python: str, seconds: float, imports: str = ""
) -> Iterator[subprocess.Popen[bytes]]:
    also = f", {imports}" if imports else ""
    code = f"import asyncio{also}; asyncio.run(asyncio.sleep({seconds:.0f}))"
    process = subprocess.Popen([python, "-c", code])
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def _ask(python: str, code: str) -> str:
    """What ``code`` prints when ``python`` runs it."""
    out = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    return out.stdout.strip()


def python_version(python: str) -> str:
    return _ask(python, "import platform; print(platform.python_version())")


def site_packages(python: str) -> Path:
    return Path(_ask(python, "import sysconfig; print(sysconfig.get_paths()['purelib'])"))


def compile_bytecode(python: str) -> None:
    """Compile what the daemon runs, as ``pip install`` does at install time.

    Without it (uv installs no bytecode by default, and PYTHONDONTWRITEBYTECODE
    may be set) every start would compile each module from source, which no Pi
    install does: start-up would measure the compiler, not the daemon.
    """
    sources = [str(site_packages(python))] + [
        str(ROOT / name) for name in ("pi_daemon", "beerpi_protocol", "beerpi_guard")
    ]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", *sources],
        check=True,
        timeout=600,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def installed_mb(python: str) -> dict[str, float]:
    """Bytes of every file under the environment's site-packages (what the install put
    there), with the bytecode pip compiles at install time and without it."""
    total = pyc = 0
    for path in site_packages(python).rglob("*"):
        if path.is_file() and not path.is_symlink():
            size = path.stat().st_size
            total += size
            if path.suffix == ".pyc":
                pyc += size
    return {"with_bytecode": round(total / MB, 1), "without_bytecode": round((total - pyc) / MB, 1)}


def time_bare_import(python: str) -> float:
    """Seconds from spawning a Python that imports aiohttp.web to its exit."""
    started = time.perf_counter()
    subprocess.run([python, "-c", "import aiohttp.web"], check=True, timeout=60)
    return time.perf_counter() - started


def health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def time_daemon_start(python: str) -> float:
    """Seconds from spawning the daemon to its first ``/health`` answer (polled every 10 ms)."""
    started = time.perf_counter()
    with simulated_daemon(NO_CAMERA, python=python, wait_ready=False) as daemon:
        url = f"{daemon.url}/health"
        deadline = started + 30.0
        while not health_ok(url):
            daemon.check_alive()
            if time.perf_counter() > deadline:
                raise BenchError(f"no /health answer within 30 s:\n{daemon.log_tail()}")
            time.sleep(0.01)
        return time.perf_counter() - started


def startup(python: str, rounds: int, warm_up: bool) -> dict[str, Any]:
    """Alternating rounds (so a busy spell of the machine hits both), medians compared."""
    bare: list[float] = []
    daemon: list[float] = []
    if warm_up:  # the file cache, for both
        time_bare_import(python)
        time_daemon_start(python)
    for _ in range(rounds):
        bare.append(time_bare_import(python))
        daemon.append(time_daemon_start(python))
    return {
        "rounds": rounds,
        "bare_import_aiohttp_s": round(statistics.median(bare), 3),
        "daemon_to_health_s": round(statistics.median(daemon), 3),
        "bare_rounds_s": [round(t, 3) for t in bare],
        "daemon_rounds_s": [round(t, 3) for t in daemon],
    }


async def measure(
    daemons: list[DaemonProcess], bares: list[subprocess.Popen[bytes]], window_s: float
) -> tuple[list[Meter], list[Meter]]:
    """One window: the daemons and the bare Pythons side by side."""
    meters = [Meter(d.pid) for d in daemons]
    floors = [Meter(b.pid) for b in bares]
    for meter in meters + floors:
        meter.start()
    end = time.monotonic() + window_s
    while time.monotonic() < end:
        for meter in meters + floors:
            meter.sample()
        await asyncio.sleep(min(1.0, max(0.0, end - time.monotonic())))
    for meter in meters + floors:
        meter.sample()
        meter.stop()
    for daemon in daemons:
        daemon.check_alive()
    for bare in bares:
        if bare.poll() is not None:
            raise BenchError(f"the bare Python exited early with {bare.returncode}")
    return meters, floors


async def probe_age_s(daemon: DaemonProcess) -> float:
    """How old the newest reading is, seen by a client that just connected."""
    client = BeerPiClient("127.0.0.1", daemon.port, daemon.token)
    await client.connect()
    try:
        state = await client.get_state()
    finally:
        await client.disconnect()
    stamps = [epoch(p.timestamp) for p in state.probes.values() if p.timestamp is not None]
    if not stamps:
        raise BenchError("the idle daemon has no reading at all")
    return datetime.now(UTC).timestamp() - max(stamps)


@dataclass
class Observed:
    idle: list[Meter]
    idle_floors: list[Meter]
    libraries: list[Meter]
    reading_age_s: list[float]
    busy: list[Meter]
    busy_floors: list[Meter]
    pushes: list[list[int]]


async def observe(
    daemons: list[DaemonProcess],
    bares: list[subprocess.Popen[bytes]],
    libraries: list[subprocess.Popen[bytes]],
    sizes: Sizes,
) -> Observed:
    # Start-up (imports, the first reads) is not the steady state.
    await asyncio.sleep(sizes.settle_s)
    idle, floors = await measure(daemons, bares + libraries, sizes.window_s)
    idle_floors, library_floors = floors[: len(bares)], floors[len(bares) :]
    # Nobody watched: the daemon must have kept reading (the thermostat needs it).
    ages = [await probe_age_s(daemon) for daemon in daemons]
    clients: list[BeerPiClient] = []
    pushes = [[0] * CLIENTS for _ in daemons]
    try:
        for d, daemon in enumerate(daemons):
            for c in range(CLIENTS):
                client = BeerPiClient("127.0.0.1", daemon.port, daemon.token)
                await client.connect()
                clients.append(client)

                def count(_state: object, d: int = d, c: int = c) -> None:
                    pushes[d][c] += 1

                client.add_state_listener(count)
        await asyncio.sleep(sizes.settle_s)
        for row in pushes:
            row[:] = [0] * CLIENTS
        busy, busy_floors = await measure(daemons, bares, sizes.clients_window_s)
        return Observed(idle, idle_floors, library_floors, ages, busy, busy_floors, pushes)
    finally:
        for client in clients:
            await client.disconnect()


# Long on purpose: one row per figure and interpreter, laid out as the table shows them; the length
# is the list of rows, not logic.
def metrics(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for the summary table (see bench/run_all.py); goals judged on the Pi install."""
    rows: list[dict[str, Any]] = []
    for run in runs:
        py, idle, bare = run["python"], run["idle"], run["bare_python"]
        # The goals are a Pi's: judged on the Pi-like install. The dev environment
        # also holds the web service's libraries (python-socketio imports redis when
        # it is installed), so its figures are shown, not judged.
        on_pi = ".venv-pi" in str(run.get("interpreter", ""))
        where = "Pi install" if on_pi else "dev environment"

        def judged(goal: str, passed: bool, on_pi: bool = on_pi) -> dict[str, Any]:
            return {"goal": goal if on_pi else None, "passed": passed if on_pi else None}

        over = (idle["rss_peak_mb"] - bare["rss_peak_mb"]) * MB / MIB
        libraries = (run["libraries_floor"]["rss_peak_mb"] - bare["rss_peak_mb"]) * MB / MIB
        rows.append(
            {
                "metric": f"daemon RSS above bare python, no client (Python {py}, {where})",
                "value": round(over, 1),
                "unit": "MiB",
                **judged(f"<= {RSS_OVER_FLOOR_GOAL_MIB:g} MiB", over <= RSS_OVER_FLOOR_GOAL_MIB),
                "baseline": f"bare python: {bare['rss_peak_mb'] * MB / MIB:.1f} MiB",
                "ratio": f"{idle['rss_peak_mb'] / bare['rss_peak_mb']:.1f}× bare python;"
                f" its libraries alone: +{libraries:.1f} MiB",
            }
        )
        cpu = idle["cpu_pct"]
        rows.append(
            {
                "metric": f"daemon idle CPU, no client (Python {py}, {where})",
                "value": cpu,
                "unit": "%",
                **judged(f"<= {IDLE_CPU_GOAL_PCT:g} %", cpu <= IDLE_CPU_GOAL_PCT),
                "baseline": f"bare python: {bare['cpu_pct']:.3f} %",
                "ratio": f"+{cpu - bare['cpu_pct']:.3f} points",
            }
        )
        start = run["startup"]
        ratio = start["daemon_to_health_s"] / start["bare_import_aiohttp_s"]
        rows.append(
            {
                "metric": f"start-up to first /health (Python {py}, {where})",
                "value": start["daemon_to_health_s"],
                "unit": "s",
                **judged(f"<= {STARTUP_GOAL_RATIO:g}× baseline", ratio <= STARTUP_GOAL_RATIO),
                "baseline": f"python + import aiohttp.web: {start['bare_import_aiohttp_s']:.3f} s",
                "ratio": f"{ratio:.2f}× baseline",
            }
        )
        size = run["installed_mb"]["with_bytecode"]
        bytecode = size - run["installed_mb"]["without_bytecode"]
        rows.append(
            {
                "metric": f"installed site-packages (Python {py}, {where})",
                "value": size,
                "unit": "MB",
                **judged(f"<= {INSTALL_GOAL_MB:g} MB", size <= INSTALL_GOAL_MB),
                "baseline": f"of which bytecode: {bytecode:.1f} MB",
                "ratio": None,
            }
        )
        busy, busy_bare = run["clients"], run["bare_python_clients"]
        rows.append(
            {
                "metric": f"daemon CPU, {CLIENTS} idle clients (Python {py}, {where})",
                "value": busy["cpu_pct"],
                "unit": "%",
                "goal": f"< {CLIENTS_CPU_GOAL_PCT:g} %",
                "passed": busy["cpu_pct"] < CLIENTS_CPU_GOAL_PCT,
                "baseline": f"bare python: {busy_bare['cpu_pct']:.3f} %",
                "ratio": f"+{busy['cpu_pct'] - busy_bare['cpu_pct']:.3f} points",
            }
        )
    return rows


def interpreters(given: list[str] | None, quick: bool) -> list[str]:
    if given:
        return given
    found = [sys.executable]
    # What a Pi install has: Python 3.11 and only the daemon's dependencies
    # (`make bench` builds it); the smoke test keeps to one interpreter.
    pi_like = ROOT / ".venv-pi" / "bin" / "python"
    if (
        not quick
        and pi_like.exists()
        and os.path.realpath(pi_like) != os.path.realpath(sys.executable)
    ):
        found.append(str(pi_like))
    return found


# Long on purpose: the benchmark's runs in order (interpreters, idle, clients, bare-Python floors),
# each feeding the one report it writes.
def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__)
    parser.add_argument(
        "--python", action="append", type=str, help="interpreter(s) to run the daemon with"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    pythons = interpreters(args.python, args.quick)
    for python in pythons:
        if not Path(python).exists():
            print(f"footprint: FAILED: no interpreter {python}", file=sys.stderr)
            return 1
    print(f"footprint: {sizes.window_s:g} s windows on {', '.join(pythons)}", flush=True)
    started = time.monotonic()
    try:
        versions = [python_version(python) for python in pythons]
        if sizes.bytecode:
            for python in pythons:
                compile_bytecode(python)
        sizes_mb = [installed_mb(python) for python in pythons]
        # One at a time: start-up races nothing else of ours.
        starts = [startup(python, sizes.startup_rounds, sizes.bytecode) for python in pythons]
        with contextlib.ExitStack() as stack:
            daemons = [
                stack.enter_context(simulated_daemon(NO_CAMERA, python=py)) for py in pythons
            ]
            lifetime = 2 * sizes.settle_s + sizes.window_s + sizes.clients_window_s + 120
            bares = [stack.enter_context(bare_python(py, lifetime)) for py in pythons]
            libraries = [
                stack.enter_context(bare_python(py, lifetime, LIBRARIES)) for py in pythons
            ]
            seen = asyncio.run(
                asyncio.wait_for(
                    observe(daemons, bares, libraries, sizes),
                    sizes.window_s + sizes.clients_window_s + 90,
                )
            )
    except TimeoutError:
        print("footprint: FAILED: over its time budget", file=sys.stderr)
        return 1
    except (BenchError, BeerPiError, subprocess.SubprocessError, OSError) as err:
        print(f"footprint: FAILED: {err}", file=sys.stderr)
        return 1
    runs: list[dict[str, Any]] = []
    for i, (python, version) in enumerate(zip(pythons, versions, strict=True)):
        counts = seen.pushes[i]
        # A daemon that stopped reading would look thrifty: demand fresh readings
        # after the idle window and a push per read to clients.
        if seen.reading_age_s[i] > READ_INTERVAL_S + 4.0:
            print(
                f"footprint: FAILED: the Python {version} daemon's newest reading was"
                f" {seen.reading_age_s[i]:.1f} s old after the idle window",
                file=sys.stderr,
            )
            return 1
        if min(counts) < 0.8 * sizes.clients_window_s / READ_INTERVAL_S:
            print(
                f"footprint: FAILED: clients of the Python {version} daemon got {counts} pushes"
                f" in {sizes.clients_window_s:g} s, expected one per {READ_INTERVAL_S:g} s read",
                file=sys.stderr,
            )
            return 1
        runs.append(
            {
                "python": version,
                "interpreter": python,
                "window_s": sizes.window_s,
                "clients_window_s": sizes.clients_window_s,
                "bytecode_compiled": sizes.bytecode,
                "startup": starts[i],
                "installed_mb": sizes_mb[i],
                "idle": seen.idle[i].report(),
                "bare_python": seen.idle_floors[i].report(),
                "libraries": LIBRARIES,
                "libraries_floor": seen.libraries[i].report(),
                "reading_age_after_idle_s": round(seen.reading_age_s[i], 2),
                "clients": seen.busy[i].report(),
                "bare_python_clients": seen.busy_floors[i].report(),
                "pushes_per_client": counts,
            }
        )
    rows = metrics(runs)
    print(table(rows))
    return finish("footprint", {}, rows, started=started, quick=args.quick, runs=runs)


if __name__ == "__main__":
    sys.exit(main())
