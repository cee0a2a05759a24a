"""No heater right after the cooler (or back): at start-up, after a set-point change, a restart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pi_daemon.control import ControlSettings
from pi_daemon.safety import SafetySettings
from pi_daemon.safety.history import history_document, load_guards, save_history
from pi_daemon.safety.limits import CHANGEOVER_C, CHANGEOVER_S, COOLER_TIMING, HEATER_TIMING
from tests.control.control_rig import Rig, make_rig

# A DS18B20 reads in 1/16 °C steps: the reading may sit half a step from the model.
READ_C = 1 / 32


Seen = dict[float, tuple[float, float]]


def direction_changes(rig: Rig, seen: Seen) -> list[tuple[str, float, float, float]]:
    """(relay, seconds since the other stopped, beer °C, target °C) per change of direction."""
    found = []
    last_on: str | None = None
    stopped: dict[str, float] = {}
    for change in rig.changes:
        if change.on:
            if last_on is not None and last_on != change.relay:
                beer_c, target_c = seen[change.at_s]
                found.append((change.relay, change.at_s - stopped[last_on], beer_c, target_c))
            last_on = change.relay
        else:
            stopped[change.relay] = change.at_s
    return found


def run_with_target_step(
    settings: ControlSettings | None,
) -> tuple[Rig, list[tuple[str, float, float, float]]]:
    """Start-up pull-down 22 → 18 °C, two days, then the set point goes to 20 °C for two more."""
    rig = make_rig(settings, beer_c=22.0)
    seen: Seen = {}
    rig.gate.listeners.append(
        lambda change: seen.setdefault(change.at_s, (rig.model.beer_c, rig.thermostat.target_c))
    )
    rig.thermostat.set_target(18.0)
    rig.run(2 * 86400)
    rig.thermostat.set_target(20.0)
    rig.run(2 * 86400)
    return rig, direction_changes(rig, seen)


def test_without_the_rule_the_heater_starts_right_after_the_cooler() -> None:
    """The demo's jolt, reproduced: with no changeover rule the heater follows the cooler
    within minutes (and back), the beer barely off its target."""
    settings = ControlSettings(safety=SafetySettings(changeover_s=0.0, changeover_c=0.0))
    _, changes = run_with_target_step(settings)
    quick = [c for c in changes if c[1] < CHANGEOVER_S]
    assert quick, changes
    assert any(abs(beer_c - target_c) < CHANGEOVER_C for _, _, beer_c, target_c in quick)


def test_heating_after_cooling_waits_the_changeover_and_for_the_beer() -> None:
    rig, changes = run_with_target_step(None)
    assert len(rig.changes) > 20
    assert changes, "the set-point step needs the heater after the cooler"
    for relay, after_s, beer_c, target_c in changes:
        assert after_s >= CHANGEOVER_S, changes
        if relay == "heater":
            assert beer_c < target_c - CHANGEOVER_C + READ_C, changes
        else:
            assert beer_c > target_c + CHANGEOVER_C - READ_C, changes


def test_the_waiting_reason_says_why() -> None:
    rig = make_rig(beer_c=22.0)
    rig.thermostat.set_target(18.0)
    cooler = rig.thermostat.guards["cooler"]
    while cooler.ran_until_s is None:  # until the first pull-down run ends
        rig.tick()
    rig.thermostat.set_target(26.0)  # the beer is far below it now: heat is needed
    decision = rig.tick()
    assert not rig.relays["heater"]
    assert "heater waits 29 min" in decision.reason
    assert "(changeover)" in decision.reason
    rig.run(CHANGEOVER_S)
    assert rig.relays["heater"]


TIMINGS = {"heater": HEATER_TIMING, "cooler": COOLER_TIMING}
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_a_restart_keeps_the_changeover_and_the_compressor_rests_from_start(
    tmp_path: Path,
) -> None:
    path = tmp_path / "relays.json"
    rig = make_rig(beer_c=24.0, mode="cool")
    rig.thermostat.set_target(18.0)
    rig.run(3 * 3600)
    cooler = rig.thermostat.guards["cooler"]
    assert cooler.ran_until_s is not None  # it has run and stopped
    stopped_ago = rig.now_s - cooler.ran_until_s
    save_history(path, history_document(rig.thermostat.guards, rig.now_s, NOW))
    guards = load_guards(path, TIMINGS, start_s=100.0, now_wall=NOW, resting=["cooler"])
    again = guards["cooler"]
    assert again.ran_until_s == pytest.approx(100.0 - stopped_ago, abs=0.01)
    # Whatever the file says, a compressor rests its full minimum off time from start-up.
    assert again.can_switch(100.0, True) == (False, TIMINGS["cooler"].min_off_s)


def test_a_relay_that_was_on_counts_as_just_stopped(tmp_path: Path) -> None:
    path = tmp_path / "relays.json"
    since = NOW - timedelta(minutes=5)
    path.write_text(
        json.dumps({"version": 1, "relays": {"cooler": {"on": True, "since": since.isoformat()}}})
    )
    guards = load_guards(path, TIMINGS, start_s=7.0, now_wall=NOW, resting=["cooler"])
    assert guards["cooler"].ran_until_s == 7.0
    assert guards["cooler"].can_switch(7.0, True) == (False, 600.0)
    assert guards["heater"].since_s is None  # unknown: no rest for a heater


@pytest.mark.parametrize(
    "content", ["", "{", "[]", '{"version": 9}', '{"version": 1, "relays": {"cooler": 3}}']
)
def test_an_unreadable_history_is_no_history(tmp_path: Path, content: str) -> None:
    path = tmp_path / "relays.json"
    path.write_text(content)
    guards = load_guards(path, TIMINGS, start_s=50.0, now_wall=NOW, resting=["cooler"])
    assert guards["cooler"].since_s == 50.0  # a compressor rests, as after a power cut
    assert guards["heater"].since_s is None


def test_a_clock_that_went_back_counts_as_just_now(tmp_path: Path) -> None:
    path = tmp_path / "relays.json"
    future = NOW + timedelta(hours=3)
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "relays": {"cooler": {"on": False, "since": future.isoformat(), "ran_until": None}},
            }
        )
    )
    guards = load_guards(path, TIMINGS, start_s=50.0, now_wall=NOW, resting=[])
    assert guards["cooler"].since_s == 50.0
