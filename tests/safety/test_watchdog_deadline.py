"""The watchdog thread sleeps until its deadline: no stall missed, no needless wake-ups."""

from __future__ import annotations

import threading
import time

import pytest

from pi_daemon.safety.watchdog import Watchdog

# The thread trips within 0.2 s of its deadline: run alone, not beside the parallel run.
pytestmark = pytest.mark.realtime


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_it_sleeps_until_the_last_feed_plus_the_limit() -> None:
    clock = FakeClock()
    stalls: list[float] = []
    watchdog = Watchdog(15.0, on_stall=stalls.append, on_recover=lambda: None, clock=clock)
    watchdog.feed(clock.t)
    clock.t += 4.0
    # A loop feeding every second keeps pushing the deadline: 11 s left, not a 1 s tick.
    assert 11.0 < watchdog.seconds_to_deadline() < 11.01
    watchdog.feed(clock.t)
    assert 15.0 < watchdog.seconds_to_deadline() < 15.01
    # Woken at the deadline, the look finds it passed and trips, once.
    clock.t += watchdog.seconds_to_deadline()
    watchdog.check()
    assert watchdog.tripped
    assert len(stalls) == 1
    watchdog.check()
    assert len(stalls) == 1
    # Tripped, there is nothing to look for until a step completes again.
    assert watchdog.seconds_to_deadline() == 15.0


def test_just_before_the_deadline_nothing_trips() -> None:
    clock = FakeClock()
    stalls: list[float] = []
    watchdog = Watchdog(15.0, on_stall=stalls.append, on_recover=lambda: None, clock=clock)
    watchdog.feed(clock.t)
    clock.t += 15.0
    watchdog.check()
    assert not watchdog.tripped
    assert stalls == []


def test_the_thread_trips_at_the_deadline_after_a_fed_spell_and_recovers() -> None:
    limit_s = 0.3
    tripped = threading.Event()
    stalled_at: list[float] = []
    recovered: list[bool] = []

    def on_stall(_stalled_s: float) -> None:
        stalled_at.append(time.monotonic())
        tripped.set()

    watchdog = Watchdog(limit_s, on_stall=on_stall, on_recover=lambda: recovered.append(True))
    watchdog.start()
    try:
        # A healthy loop: fed every 0.05 s for 1 s, several limits long: never trips.
        for _ in range(20):
            watchdog.feed(watchdog.now())
            time.sleep(0.05)
        assert not tripped.is_set()
        last_feed = time.monotonic()
        watchdog.feed(watchdog.now())
        assert tripped.wait(5.0)
        took_s = stalled_at[0] - last_feed
        assert limit_s <= took_s < limit_s + 0.2, took_s
        # The next completed step that began after the stall recovers.
        watchdog.feed(watchdog.now())
        assert recovered == [True]
        assert not watchdog.tripped
    finally:
        watchdog.stop()
