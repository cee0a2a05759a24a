"""Two simulated weeks of the closed loop: the relay rules hold at every switch."""

from __future__ import annotations

from control_rig import make_rig

from pi_daemon.control import ControlSettings


def test_min_times_and_exclusion_hold_over_a_fortnight() -> None:
    settings = ControlSettings()
    rig = make_rig(settings, beer_c=22.0)
    rig.thermostat.set_target(18.0)
    both_on = 0
    for day in range(14):
        if day == 7:
            rig.thermostat.set_target(20.0)
        end = rig.now_s + 86_400
        while rig.now_s < end:
            rig.tick()
            both_on += rig.relays["heater"] and rig.relays["cooler"]
    assert both_on == 0
    by_relay: dict[str, list[tuple[float, bool]]] = {"heater": [], "cooler": []}
    for t, rid, on in rig.switches:
        by_relay[rid].append((t, on))
    assert len(by_relay["cooler"]) > 20, "the loop should really have cycled"
    for rid, events in by_relay.items():
        timing = settings.timing(rid)
        previous_t, previous_on = 0.0, False  # the thermostat started at 0 with relays off
        for t, on in events:
            assert on != previous_on
            held = t - previous_t
            minimum = timing.min_off_s if on else timing.min_on_s
            assert held >= minimum, f"{rid} switched {'on' if on else 'off'} after {held} s"
            previous_t, previous_on = t, on
    # And it held the beer: the last day within a few tenths of 20 °C.
    assert abs(rig.model.beer_c - 20.0) < 0.6
