"""No reading lost, end to end: a fast simulated daemon, the web service, and faults.

The service (a ``beerpi-web`` process, SQLite) is killed with SIGKILL and started
again on the same port and data dir, the link between them runs through a
loopback proxy that cuts every connection or refuses new ones for a while, and
the daemon itself is restarted (SIGTERM, and SIGKILL like a power cut) on its
data dir. At the end every reading in the daemon's outbox is in the service's
history exactly once; along the way, whenever the stored cursor says "up to
seq N", every reading up to N is stored (no hole behind the cursor, so the
history is filled in order). Counts are read from the two SQLite files, not
through the code under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

from beerpi_devtools.harness import WebService
from beerpi_devtools.store_files import (
    gap_events,
    outbox_count,
    outbox_rows,
    rollup_mismatches,
    stored_cursor,
    stored_rows,
)
from tests.reliability.web_support import TcpProxy, wait_for
from tests.support.daemon import TOKEN, DaemonProcess, daemon_process, free_port

# 60x clock; a record every 6 simulated seconds is ten a second per probe.
FAST = ("--sim-speed", "60", "--record-interval", "6", "--read-interval", "0.05")
# The last daemon run records once at start, then not for a simulated day: the
# outbox stops growing, so "every reading it took" is a fixed set to compare.
QUIET = ("--sim-speed", "60", "--record-interval", "86400", "--read-interval", "0.05")
DEVICE_TOKEN = "dialout-device-token-0123"
API_TOKEN = "web-api-token-0123456789"


class Daemon:
    """The simulated daemon as a process on a fixed port and data dir, restartable."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.extra = extra
        self.restarts = 0
        self._stack = contextlib.ExitStack()
        self.proc: DaemonProcess | None = None

    async def start(self, *speed: str) -> None:
        manager = daemon_process(self.data_dir, *speed, *self.extra, port=self.port)
        self.proc = await asyncio.to_thread(self._stack.enter_context, manager)

    async def restart(self, *speed: str, hard: bool = False) -> None:
        assert self.proc is not None
        if hard:
            await asyncio.to_thread(self.proc.kill)  # SIGKILL, then wait
        else:
            code, _ = await asyncio.to_thread(self.proc.terminate)
            assert code == 0
        self.restarts += 1
        await self.start(*speed)

    def close(self) -> None:
        self._stack.close()


@contextlib.contextmanager
def closing_all(*closers: Callable[[], object]) -> Iterator[None]:
    try:
        yield
    finally:
        for close in closers:
            close()


class Checker:
    """Compares the service's history with the daemon's outbox, from the files."""

    def __init__(self, daemon_dir: Path, history: Path, device: str) -> None:
        self.daemon_dir = daemon_dir
        self.history = history
        self.device = device
        self.prefix_checks = 0
        self.t0 = time.monotonic()
        self.marks: list[float] = []
        self._last_cursor = 0

    def cursor(self) -> int:
        value = stored_cursor(self.history, self.device)
        return 0 if value is None else int(value)

    def check_prefix(self) -> None:
        """Every reading up to the stored cursor is stored; the cursor never goes back."""
        cursor = self.cursor()  # read first: the readings under it are committed with it
        stored = {(p, ms) for p, ms, _ in stored_rows(self.history, self.device)}
        missing = [
            (seq, key)
            for seq, key in outbox_rows(self.daemon_dir)
            if seq <= cursor and key[:2] not in stored
        ]
        assert not missing, f"cursor {cursor} but {len(missing)} missing, first {missing[:3]}"
        assert cursor >= self._last_cursor, f"cursor went back {self._last_cursor} -> {cursor}"
        self._last_cursor = cursor
        self.prefix_checks += 1

    def caught_up(self) -> bool:
        rows = outbox_rows(self.daemon_dir)
        return bool(rows) and self.cursor() == rows[-1][0]

    async def last_run_recorded(self, before: int) -> None:
        """Wait for the quiet daemon's one record, so caught_up() cannot come before it."""
        await wait_for(lambda: outbox_count(self.daemon_dir) > before, 30)

    def final(self) -> dict[str, int]:
        """Exactly once: the stored readings are the outbox's, per probe, none missing or extra."""
        rows = outbox_rows(self.daemon_dir)
        taken: dict[tuple[str, int], set[float]] = defaultdict(set)
        for _seq, (probe, ms, temperature) in rows:
            taken[(probe, ms)].add(temperature)
        stored = stored_rows(self.history, self.device)
        stored_keys = [(p, ms) for p, ms, _ in stored]
        assert len(stored_keys) == len(set(stored_keys)), "a reading stored twice"
        missing = set(taken) - set(stored_keys)
        extra = set(stored_keys) - set(taken)
        assert not missing, f"{len(missing)} readings lost, e.g. {sorted(missing)[:3]}"
        assert not extra, f"{len(extra)} readings stored that were never taken"
        for probe, ms, temperature in stored:
            assert temperature in taken[(probe, ms)]
        per_probe_taken: dict[str, int] = defaultdict(int)
        per_probe_stored: dict[str, int] = defaultdict(int)
        for probe, _ms in taken:
            per_probe_taken[probe] += 1
        for probe, _ms in stored_keys:
            per_probe_stored[probe] += 1
        assert per_probe_taken == per_probe_stored
        assert self.cursor() == rows[-1][0]
        assert gap_events(self.history, self.device) == 0
        # Every rollup level counts each stored reading once: replays added nothing.
        assert rollup_mismatches(self.history, self.device) == []
        # A restarted simulated clock starts again at the wall clock, behind the
        # old run's 60x time: two readings may share a timestamp (one stored).
        same_stamp = len(rows) - len(taken)
        return {
            "taken": len(rows),
            "stored": len(stored),
            "same_stamp": same_stamp,
            **{f"taken.{p}": n for p, n in sorted(per_probe_taken.items())},
            **{f"stored.{p}": n for p, n in sorted(per_probe_stored.items())},
        }


async def hold(seconds: float, checker: Checker) -> None:
    await asyncio.sleep(seconds)
    checker.check_prefix()
    checker.marks.append(round(time.monotonic() - checker.t0, 1))


async def last_run(daemon: Daemon, checker: Checker) -> dict[str, int]:
    """The last run: the outbox stops growing, the service catches up with it; the counts."""
    before = outbox_count(daemon.data_dir)
    await daemon.restart(*QUIET)
    await checker.last_run_recorded(before)
    await wait_for(checker.caught_up, 30)
    checker.check_prefix()
    return checker.final()


def device_id_of(daemon_dir: Path) -> str:
    import json

    return str(json.loads((daemon_dir / "device.json").read_text())["id"])


# Long on purpose: one user story told end to end (the steps depend on each other); splitting it
# would hide the story.
async def test_dial_in_loses_nothing_through_kills_cuts_and_restarts(tmp_path: Path) -> None:
    rng = random.Random(8)
    started = time.monotonic()
    daemon = Daemon(tmp_path / "daemon")
    await daemon.start(*FAST)
    proxy = await TcpProxy(daemon.port).start()
    history = tmp_path / "web" / "history.sqlite"
    web = WebService(
        free_port(),
        [
            "--data-dir",
            str(tmp_path / "web"),
            "--db",
            str(history),
            "--daemon",
            f"ws://127.0.0.1:{proxy.port}",
            "--daemon-token",
            TOKEN,
            "--api-token",
            API_TOKEN,
        ],
        tmp_path / "web.log",
    )
    with closing_all(web.stop, daemon.close):
        await asyncio.to_thread(web.start)
        device = device_id_of(daemon.data_dir)
        checker = Checker(daemon.data_dir, history, device)
        await wait_for(lambda: checker.cursor() > 0, 20)

        def pause() -> float:
            return rng.uniform(0.6, 1.2)

        # 1. kill -9 the service and start it again at once
        web.kill()
        await asyncio.to_thread(web.start)
        await hold(pause(), checker)
        # 2. cut the link: both ends see their sockets reset
        proxy.cut()
        await hold(pause(), checker)
        # 3. kill -9 while readings pile up in the outbox for a while
        web.kill()
        await asyncio.sleep(1.0)
        await asyncio.to_thread(web.start)
        await hold(pause(), checker)
        # 4. the network drops: connections reset, new ones refused for a while
        proxy.refusing = True
        proxy.cut()
        await asyncio.sleep(1.0)
        proxy.refusing = False
        await hold(pause(), checker)
        # 5. restart the daemon (SIGTERM) on its data dir and port
        await daemon.restart(*FAST)
        await hold(pause(), checker)
        # 6. kill -9 the service in the middle of its catch-up
        web.kill()
        await asyncio.sleep(1.0)
        await asyncio.to_thread(web.start)
        await asyncio.sleep(0.3)
        web.kill()
        await asyncio.to_thread(web.start)
        await hold(pause(), checker)
        # 7. power cut of the daemon (SIGKILL), and a cut of the link right after
        await daemon.restart(*FAST, hard=True)
        await asyncio.sleep(0.5)
        proxy.cut()
        await hold(pause(), checker)
        counts = await last_run(daemon, checker)
        cuts = proxy.cuts
        await proxy.stop()
        log = web.log_text()
    assert TOKEN not in log
    assert API_TOKEN not in log
    assert "Traceback" not in log, log
    print(
        f"\ndial-in: {counts} service kills={web.kills} link cuts={cuts} "
        f"daemon restarts={daemon.restarts} prefix checks={checker.prefix_checks} "
        f"in {time.monotonic() - started:.1f} s (phases at {checker.marks})"
    )
    assert (web.kills, cuts, daemon.restarts) == (4, 3, 3)
    assert counts["taken"] > 200


# Long on purpose: one user story told end to end (the steps depend on each other); splitting it
# would hide the story.
async def test_dial_out_loses_nothing_through_kills_cuts_and_restarts(tmp_path: Path) -> None:
    started = time.monotonic()
    device = "dialout-soak"
    history = tmp_path / "web" / "history.sqlite"
    web = WebService(
        free_port(),
        [
            "--data-dir",
            str(tmp_path / "web"),
            "--db",
            str(history),
            "--device-token",
            f"{device}={DEVICE_TOKEN}",
        ],
        tmp_path / "web.log",
    )
    await asyncio.to_thread(web.start)
    proxy = await TcpProxy(web.port).start()
    config = tmp_path / "daemon.toml"
    config.write_text(f'[device]\nid = "{device}"\n')
    daemon = Daemon(
        tmp_path / "daemon",
        "--config",
        str(config),
        "--server",
        f"http://127.0.0.1:{proxy.port}",
        "--server-token",
        DEVICE_TOKEN,
    )
    with closing_all(web.stop, daemon.close):
        await daemon.start(*FAST)
        checker = Checker(daemon.data_dir, history, device)
        await wait_for(lambda: checker.cursor() > 0, 20)
        web.kill()
        await asyncio.to_thread(web.start)
        await hold(1.0, checker)
        proxy.cut()
        await hold(1.0, checker)
        await daemon.restart(*FAST)
        await hold(1.0, checker)
        web.kill()
        await asyncio.sleep(1.0)
        await asyncio.to_thread(web.start)
        await hold(1.0, checker)
        counts = await last_run(daemon, checker)
        cuts = proxy.cuts
        await proxy.stop()
        log = web.log_text()
    assert DEVICE_TOKEN not in log
    assert TOKEN not in log
    assert "Traceback" not in log, log
    print(
        f"\ndial-out: {counts} service kills={web.kills} link cuts={cuts} "
        f"daemon restarts={daemon.restarts} in {time.monotonic() - started:.1f} s"
    )
    assert (web.kills, cuts, daemon.restarts) == (2, 1, 2)
