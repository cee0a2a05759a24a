"""After a restart, a stale relays.json cannot shorten the compressor's rest or the changeover.

relays.json is written after each switch; when the data dir refuses writes (a
full SD card, a file system remounted read-only) it stops changing, and a
power blip may follow. The file then says "cooler off for hours" of a
compressor that ran until the cut.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pi_daemon.clock import ManualClock
from pi_daemon.config import load_config
from pi_daemon.control import ControlSettings
from pi_daemon.control_adapter import DaemonThermostat, build_thermostat
from pi_daemon.safety import Cause
from pi_daemon.safety.history import load_guards
from pi_daemon.safety.limits import CHANGEOVER_S, COOLER_TIMING, HEATER_TIMING

START = datetime(2026, 11, 29, 12, tzinfo=UTC)
TIMINGS = {"heater": HEATER_TIMING, "cooler": COOLER_TIMING}


def write_stale_history(data_dir: Path, ago: timedelta = timedelta(hours=2)) -> None:
    """Both relays off for ``ago`` as far as the (stale) file knows."""
    long_ago = (START - ago).isoformat()
    relay = {"on": False, "since": long_ago, "ran_until": long_ago}
    (data_dir / "relays.json").write_text(
        json.dumps({"version": 1, "relays": {"heater": relay, "cooler": relay}})
    )


def start(data_dir: Path, mode: str) -> tuple[DaemonThermostat, ManualClock]:
    clock = ManualClock(START)
    (data_dir / "thermostat.json").write_text(json.dumps({"mode": mode, "target": 18.0}))
    config = load_config(None, {"simulate": True, "storage.data_dir": str(data_dir)})
    return build_thermostat(config, data_dir, clock), clock


def test_a_stale_history_does_not_skip_the_compressor_rest(tmp_path: Path) -> None:
    write_stale_history(tmp_path)
    guards = load_guards(
        tmp_path / "relays.json", TIMINGS, start_s=30.0, now_wall=START, resting=["cooler"]
    )
    assert guards["cooler"].can_switch(30.0, True) == (False, COOLER_TIMING.min_off_s)
    assert guards["cooler"].can_switch(30.0 + COOLER_TIMING.min_off_s, True) == (True, 0.0)
    # The heater is no compressor: the file's "off for two hours" stands.
    assert guards["heater"].can_switch(30.0, True) == (True, 0.0)


@pytest.mark.parametrize("mode", ["off", "heat", "cool", "heat_cool"])
def test_the_cooler_rests_from_start_by_hand_and_by_the_thermostat(
    tmp_path: Path, mode: str
) -> None:
    write_stale_history(tmp_path)
    thermostat, clock = start(tmp_path, mode)
    rules = thermostat.rules
    for cause in (Cause.MANUAL, Cause.CONTROL):
        refusal = rules.refuse("cooler", True, clock.monotonic(), cause)
        assert refusal is not None
        assert refusal.code == "relay_locked_out"
    assert rules.manual_wait_s("cooler", clock.monotonic()) == COOLER_TIMING.min_off_s
    clock.advance(COOLER_TIMING.min_off_s)
    assert rules.refuse("cooler", True, clock.monotonic(), Cause.MANUAL) is None


def test_after_cooling_the_heater_waits_the_changeover_from_start(tmp_path: Path) -> None:
    """Stored in cool mode: the cooler may have run until the cut, whatever the file says."""
    write_stale_history(tmp_path)
    thermostat, clock = start(tmp_path, "cool")
    rules = thermostat.rules
    refusal = rules.refuse("heater", True, clock.monotonic(), Cause.CONTROL)
    assert refusal is not None
    assert "(changeover)" in refusal.message
    assert refusal.wait_s == pytest.approx(CHANGEOVER_S)
    # The changeover is the thermostat's rule: a person may still heat at once.
    assert rules.refuse("heater", True, clock.monotonic(), Cause.MANUAL) is None
    clock.advance(CHANGEOVER_S)
    assert rules.refuse("heater", True, clock.monotonic(), Cause.CONTROL) is None


def test_in_heat_mode_the_heater_starts_at_once(tmp_path: Path) -> None:
    """The thermostat did not drive the cooler: no changeover wait for the heater;
    the cooler waits the changeover after the heater that may have run."""
    write_stale_history(tmp_path)
    thermostat, clock = start(tmp_path, "heat")
    rules = thermostat.rules
    assert rules.refuse("heater", True, clock.monotonic(), Cause.CONTROL) is None
    clock.advance(COOLER_TIMING.min_off_s)  # rested
    refusal = rules.refuse("cooler", True, clock.monotonic(), Cause.CONTROL)
    assert refusal is not None
    assert "(changeover)" in refusal.message


@pytest.mark.parametrize("damage", ['{"mode": "hea', '{"mode": "boil", "target": 18}'])
def test_a_damaged_settings_file_counts_as_both_relays_having_run(
    tmp_path: Path, damage: str
) -> None:
    """thermostat.json unreadable (or naming no mode) with a stale history: the mode
    that ran is unknown, so the daemon, which now starts without the file, keeps the
    changeover for the heater as though the compressor ran until the cut."""
    write_stale_history(tmp_path)
    (tmp_path / "thermostat.json").write_text(damage)
    clock = ManualClock(START)
    config = load_config(
        None,
        {"simulate": True, "storage.data_dir": str(tmp_path), "thermostat.initial_mode": "heat"},
    )
    thermostat = build_thermostat(config, tmp_path, clock)
    assert thermostat.set_aside, "the damaged file was used"
    refusal = thermostat.rules.refuse("heater", True, clock.monotonic(), Cause.CONTROL)
    assert refusal is not None
    assert "(changeover)" in refusal.message
    clock.advance(COOLER_TIMING.min_off_s)
    refusal = thermostat.rules.refuse("cooler", True, clock.monotonic(), Cause.CONTROL)
    assert refusal is not None
    assert "(changeover)" in refusal.message


def test_a_heater_without_a_cooler_never_waits_at_start(tmp_path: Path) -> None:
    write_stale_history(tmp_path)
    clock = ManualClock(START)
    thermostat = DaemonThermostat(
        ControlSettings(cooler=None), tmp_path, clock, initial_mode="heat", relay_ids=["heater"]
    )
    assert thermostat.rules.refuse("heater", True, clock.monotonic(), Cause.CONTROL) is None


def test_a_first_start_waits_no_changeover(tmp_path: Path) -> None:
    """No relays.json at all: no switch was ever made here, so nothing ran; only the
    compressor's own rest holds (it may have been run by something else before)."""
    thermostat, clock = start(tmp_path, "heat_cool")
    rules = thermostat.rules
    assert rules.refuse("heater", True, clock.monotonic(), Cause.CONTROL) is None
    clock.advance(COOLER_TIMING.min_off_s)
    assert rules.refuse("cooler", True, clock.monotonic(), Cause.CONTROL) is None


def write_history(data_dir: Path, saved: datetime | None, cooler_stopped: datetime) -> None:
    """Both relays off, the cooler since ``cooler_stopped``, as saved at ``saved``."""
    heater = {"on": False, "since": None, "ran_until": None}
    cooler = {"on": False, "since": cooler_stopped.isoformat(), "ran_until": None}
    cooler["ran_until"] = cooler["since"]
    document: dict[str, object] = {"version": 1, "relays": {"heater": heater, "cooler": cooler}}
    if saved is not None:
        document["saved_at"] = saved.isoformat()
    (data_dir / "relays.json").write_text(json.dumps(document))


def test_a_history_saved_just_before_the_start_is_trusted(tmp_path: Path) -> None:
    """A restart (or a blip) while the data dir took writes: the file is current, so a
    heat_cool thermostat may heat at once after a cooler that stopped hours ago; the
    compressor still rests from the start."""
    write_history(tmp_path, START - timedelta(seconds=40), START - timedelta(hours=2))
    thermostat, clock = start(tmp_path, "heat_cool")
    rules = thermostat.rules
    assert rules.refuse("heater", True, clock.monotonic(), Cause.CONTROL) is None
    refusal = rules.refuse("cooler", True, clock.monotonic(), Cause.CONTROL)
    assert refusal is not None
    assert refusal.code == "relay_locked_out"
    clock.advance(COOLER_TIMING.min_off_s)
    assert rules.refuse("cooler", True, clock.monotonic(), Cause.CONTROL) is None


def test_a_current_history_keeps_the_changeover_it_records(tmp_path: Path) -> None:
    """Trusted means trusted both ways: a cooler that stopped 10 min before the start
    holds the heater for the 20 min of changeover left."""
    write_history(tmp_path, START - timedelta(seconds=40), START - timedelta(minutes=10))
    thermostat, clock = start(tmp_path, "heat_cool")
    refusal = thermostat.rules.refuse("heater", True, clock.monotonic(), Cause.CONTROL)
    assert refusal is not None
    assert refusal.wait_s == pytest.approx(CHANGEOVER_S - 600)


@pytest.mark.parametrize(
    "saved",
    [
        None,  # written before saved_at was kept
        START - timedelta(minutes=10),  # the daemon was down, or writes failed, since
        START + timedelta(minutes=10),  # a clock that went back: nothing to go by
    ],
    ids=["no-saved-at", "old", "future"],
)
def test_a_history_not_saved_just_before_the_start_may_be_stale(
    tmp_path: Path, saved: datetime | None
) -> None:
    write_history(tmp_path, saved, START - timedelta(hours=2))
    thermostat, clock = start(tmp_path, "heat_cool")
    refusal = thermostat.rules.refuse("heater", True, clock.monotonic(), Cause.CONTROL)
    assert refusal is not None
    assert "(changeover)" in refusal.message
    assert refusal.wait_s == pytest.approx(CHANGEOVER_S)
