"""One clock: control code never reads the wall clock (README, "One clock").

The thermostat's timers, profiles, the thermal model, the safety rules and the
timestamps all take their time from the injected ``pi_daemon.clock.Clock``, which
``--sim-speed`` scales; a direct read of the system's clock in any of them would
run at real speed in a fast simulation (a profile step that never ends, a rest
cut short). Read from the source, like tests/test_import_layout.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DAEMON = ROOT / "pi_daemon"
# Where control and its timestamps live.
CONTROL = [
    *sorted((DAEMON / "control").rglob("*.py")),
    *sorted((DAEMON / "safety").rglob("*.py")),
    *sorted((DAEMON / "simulation").rglob("*.py")),
    *sorted((DAEMON / "gravity").rglob("*.py")),
    DAEMON / "control_adapter.py",
    DAEMON / "service.py",
    DAEMON / "outbox.py",
]
# Real seconds on purpose: the watchdog acts on a blocked loop in real time, the
# dial-out link backs off in real time (it talks to a real network), and the BLE
# scanner retries a real radio.
REAL_TIME = {
    DAEMON / "safety" / "watchdog.py": {"time.monotonic"},
    DAEMON / "safety" / "link.py": {"time.monotonic"},
    DAEMON / "gravity" / "ble.py": {"asyncio.sleep"},
}
# Reads of the system's clock, as written in the source.
CLOCK_READS = {
    "time.time",
    "time.monotonic",
    "time.perf_counter",
    "time.time_ns",
    "time.monotonic_ns",
    "time.sleep",
    "asyncio.sleep",
    "datetime.now",
    "datetime.utcnow",
    "datetime.today",
    "date.today",
    "loop.time",
}


def clock_reads(source: str) -> set[str]:
    """Each ``a.b`` attribute the source uses that reads the clock, and ``from time import``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            base = node.value
            name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", None)
            if f"{name}.{node.attr}" in CLOCK_READS:
                found.add(f"{name}.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            found.add("from time import")
    return found


def test_control_code_takes_its_time_from_the_injected_clock() -> None:
    assert len(CONTROL) > 40  # the scan sees the packages
    readers = {}
    for path in CONTROL:
        reads = clock_reads(path.read_text(encoding="utf-8")) - REAL_TIME.get(path, set())
        if reads:
            readers[str(path.relative_to(ROOT))] = sorted(reads)
    assert readers == {}


def test_the_rule_catches_what_it_forbids() -> None:
    assert clock_reads("import time\nx = time.monotonic()\n") == {"time.monotonic"}
    assert clock_reads("from datetime import datetime\nd = datetime.now(UTC)\n") == {"datetime.now"}
    assert clock_reads("async def f(loop):\n    await asyncio.sleep(loop.time())\n") == {
        "asyncio.sleep",
        "loop.time",
    }
    assert clock_reads("from time import monotonic\n") == {"from time import"}
    assert clock_reads("t = self.clock.monotonic()\nn = clock.now()\n") == set()
