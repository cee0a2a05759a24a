"""Only a stop ends the daemon: a crashed or finished task is restarted, control goes on."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from pathlib import Path
from typing import Any

import pytest

from pi_daemon.dialout import DialOut
from pi_daemon.service import Daemon
from pi_daemon.supervise import supervise
from tests.support.daemon import free_port
from tests.support.switching import flip_config, switching_daemon


async def test_a_crashing_task_is_restarted_until_stop(caplog: pytest.LogCaptureFixture) -> None:
    runs = 0

    async def crashes(stop: asyncio.Event) -> None:
        nonlocal runs
        runs += 1
        raise RuntimeError("boom")

    stop = asyncio.Event()
    task = asyncio.create_task(supervise("job", crashes, stop, restart_min_s=0.01))
    await asyncio.sleep(0.3)
    assert not task.done()
    stop.set()
    restarts = await asyncio.wait_for(task, 2)
    assert runs >= 3
    assert restarts == runs
    assert "job crashed; restarting it" in caplog.text


async def test_a_task_that_ends_by_itself_is_restarted(caplog: pytest.LogCaptureFixture) -> None:
    runs = 0

    async def returns(stop: asyncio.Event) -> None:
        nonlocal runs
        runs += 1

    stop = asyncio.Event()
    task = asyncio.create_task(supervise("job", returns, stop, restart_min_s=0.01))
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert runs >= 2
    assert "job ended by itself" in caplog.text


async def test_a_stray_cancellation_inside_a_task_is_a_crash_not_a_stop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A CancelledError raised from inside the task (an inner task of a library cancelled
    # under it) is not a stop: the task is started again, and only cancelling the
    # supervisor itself still ends it.
    runs = 0

    async def cancelled_inside(stop: asyncio.Event) -> None:
        nonlocal runs
        runs += 1
        inner = asyncio.create_task(asyncio.sleep(10))
        inner.cancel()
        await inner

    stop = asyncio.Event()
    task = asyncio.create_task(supervise("job", cancelled_inside, stop, restart_min_s=0.01))
    await asyncio.sleep(0.3)
    assert not task.done()
    assert runs >= 3
    assert "job was cancelled from within; restarting it" in caplog.text
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)


async def test_a_stopped_task_is_not_restarted() -> None:
    runs = 0

    async def waits(stop: asyncio.Event) -> None:
        nonlocal runs
        runs += 1
        await stop.wait()

    stop = asyncio.Event()
    task = asyncio.create_task(supervise("job", waits, stop))
    await asyncio.sleep(0.05)
    stop.set()
    assert await asyncio.wait_for(task, 2) == 0
    assert runs == 1


async def test_crashing_dialout_and_loop_do_not_stop_local_control(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in the link, and one in a control step: the daemon logs, restarts, switches on."""
    caplog.set_level(logging.INFO, logger="pi_daemon")

    async def broken_link(self: DialOut, stop: asyncio.Event) -> None:
        raise RuntimeError("a bug in the dial-out link")

    monkeypatch.setattr(DialOut, "run", broken_link)
    real_cycle = Daemon.cycle
    failures = {"left": 1}

    async def cycle_that_fails_once(self: Daemon) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("a bug in one control step")
        return await real_cycle(self)

    monkeypatch.setattr(Daemon, "cycle", cycle_that_fails_once)
    config = flip_config(
        tmp_path / "data",
        **{
            "dialout.server": f"http://127.0.0.1:{free_port()}",
            "dialout.token": secrets.token_hex(16),
        },
    )
    async with switching_daemon(config) as (running, watch):
        start = time.monotonic()
        await asyncio.sleep(4.0)
        end = time.monotonic()
        assert not running.task.done()
        assert watch.heater_changes_between(start, end) >= 3
        assert watch.both_on == 0
    assert "control loop crashed; restarting it" in caplog.text
    assert "dial-out crashed; restarting it" in caplog.text
