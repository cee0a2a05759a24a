from __future__ import annotations

from pi_daemon.safety import RelayGuard, RelayTiming

TIMING = RelayTiming(min_on_s=180, min_off_s=600, max_run_s=3600, max_run_rest_s=1800)


def test_min_off_time_blocks_on_and_says_how_long() -> None:
    guard = RelayGuard(TIMING, since_s=0.0)
    assert guard.can_switch(100.0, True) == (False, 500.0)
    assert guard.can_switch(600.0, True) == (True, 0.0)


def test_unknown_past_allows_at_once() -> None:
    assert RelayGuard(TIMING).can_switch(0.0, True) == (True, 0.0)


def test_off_is_always_allowed_even_within_min_on() -> None:
    guard = RelayGuard(TIMING)
    guard.record(1000.0, True)
    assert guard.can_switch(1001.0, False) == (True, 0.0)
    assert guard.min_on_left(1001.0) == 179.0
    guard.record(1001.0, False)
    assert guard.min_on_left(1002.0) == 0.0
    assert guard.can_switch(1002.0, True) == (False, 599.0)


def test_overrun_trip_locks_out_until_rest_and_clear_trip() -> None:
    guard = RelayGuard(TIMING)
    guard.record(0.0, True)
    assert not guard.overrun(3600.0)
    assert guard.overrun(3601.0)
    guard.trip(3601.0)
    guard.record(3601.0, False)
    allowed, wait = guard.can_switch(3601.0 + 900, True)
    assert not allowed
    assert wait == 900.0
    assert guard.can_switch(3601.0 + 1800, True)[0]
    guard.trip(4000.0)
    guard.clear_trip()
    assert guard.can_switch(4000.0 + 600, True)[0]
