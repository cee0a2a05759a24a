"""The air-share estimator (pi_daemon/control/air_share.py) on synthetic probes.

A chamber whose air swings with a compressor's hysteresis, a beer that follows it
over hours, and a beer probe that reads ``share`` of the air through ``lag_s``,
quantised and noisy as a DS18B20 reads.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator

import pytest

from pi_daemon.control.air_share import SHARE_MAX, AirShare

READ_S = 10.0
DS18B20_STEP_C = 0.0625


def ds18b20(rng: random.Random, value_c: float) -> float:
    """What a DS18B20 reports: a little noise, then its 1/16 °C steps."""
    return round((value_c + rng.gauss(0.0, 0.02)) / DS18B20_STEP_C) * DS18B20_STEP_C


def chamber(
    share: float,
    lag_s: float,
    hours: float,
    *,
    tau_h: float = 8.0,
    air_lag_s: float = 150.0,
    yeast_c_per_h: float = 0.05,
    seed: int = 1,
) -> Iterator[tuple[float, float, float, float]]:
    """(time, probe reading, air reading, true beer) every READ_S."""
    rng = random.Random(seed)
    beer = air = probe = air_read = 10.0
    cooling = False
    for n in range(int(hours * 3600 / READ_S)):
        if air > 10.0:
            cooling = True
        elif air < 0.0:
            cooling = False
        air += READ_S * ((14.0 - air) / 1800.0 - (0.015 if cooling else 0.0))
        beer += READ_S * ((air - beer) / (tau_h * 3600.0) + yeast_c_per_h / 3600.0)
        felt = beer + share * (air - beer)
        probe += (felt - probe) * (1.0 - math.exp(-READ_S / lag_s))
        air_read += (air - air_read) * (1.0 - math.exp(-READ_S / air_lag_s))

        yield n * READ_S, ds18b20(rng, probe), ds18b20(rng, air_read), beer


def belt_in_a_still_chamber(
    hours: float, *, seed: int = 3
) -> Iterator[tuple[float, float, float, bool]]:
    """(time, probe reading, air reading, heater on) every READ_S: a probe in the beer
    behind a slow sheath (10 min); a 60 W belt, pulsed 18 min in every 30, warming the
    beer through its jacket (80 s) and leaking into the closed chamber's air; the
    compressor off in a cold room whose air swings 1.5 °C a day. Only the belt moves
    the air quickly."""
    rng = random.Random(seed)
    beer = element = probe = 19.0
    air = air_read = 12.0
    for n in range(int(hours * 3600 / READ_S)):
        t = n * READ_S
        on = t % 1800.0 < 1080.0
        room = 12.0 + 1.5 * math.sin(2 * math.pi * t / 86_400.0)
        element += READ_S * ((60.0 / 4.4 if on else 0.0) + beer - element) / 80.0
        air += READ_S * ((room - air) / 600.0 + 0.6 * (element - beer) / 3000.0)
        beer += READ_S * ((air - beer) / (7 * 3600.0) + (element - beer) * 4.4 / 22_900.0)
        probe += (beer - probe) * (1.0 - math.exp(-READ_S / 600.0))
        air_read += (air - air_read) * (1.0 - math.exp(-READ_S / 150.0))

        yield t, ds18b20(rng, probe), ds18b20(rng, air_read), on


def learn(
    share: float,
    lag_s: float,
    hours: float,
    tau_h: float = 8.0,
    heater_on: Callable[[float], bool] = lambda _t: False,
) -> tuple[AirShare, list[float]]:
    est = AirShare()
    applied = []
    for t, probe, air, _ in chamber(share, lag_s, hours, tau_h=tau_h):
        est.feed(t, probe, air, heater_on=heater_on(t))
        applied.append(est.share)
    return est, applied


def test_a_taped_probe_learns_about_its_true_share() -> None:
    est, _ = learn(0.05, 600.0, 72)
    assert est.trusted
    assert 0.035 <= est.share <= 0.06


def test_a_larger_share_with_a_shorter_lag_is_learned_too() -> None:
    est, _ = learn(0.1, 300.0, 72)
    assert 0.08 <= est.share <= 0.12


@pytest.mark.parametrize(("lag_s", "tau_h"), [(60.0, 8.0), (60.0, 3.0), (600.0, 8.0)])
def test_a_probe_in_the_beer_learns_no_share(lag_s: float, tau_h: float) -> None:
    """In a thermowell (or a bare probe in the beer behind a slow sheath) the reading
    is the beer: whatever lag is tried, no share is ever applied."""
    _, applied = learn(0.0, lag_s, 72, tau_h=tau_h)
    assert max(applied) == 0.0


def test_air_moved_by_a_belt_teaches_no_share() -> None:
    """A belt warms the beer and, through its jacket, the air of a closed chamber at
    once: air that moves with it looks like a share to the fit (before the heater's
    windows were left out, this probe in the beer had 0.19 taken off as air)."""
    est = AirShare()
    for t, probe, air, on in belt_in_a_still_chamber(7 * 24):
        est.feed(t, probe, air, heater_on=on)
        assert est.share == 0.0, t
    assert est.windows == 0, "every window the air moved in, the belt had just run"


def test_a_taped_probe_learns_its_share_between_heater_runs() -> None:
    """With a heater on 2 h in every 8 (its windows, and the half hour after, left
    out), the compressor's swings in between still teach the share."""
    est, _ = learn(0.05, 600.0, 96, heater_on=lambda t: t % (8 * 3600) < 2 * 3600)
    assert est.trusted
    assert 0.035 <= est.share <= 0.06


def test_the_corrected_reading_follows_the_beer_not_the_air() -> None:
    """At peak fermentation the beer is held ~4 K above the air: the taped probe
    reads ~0.2 K low; corrected, it reads the beer."""
    est = AirShare()
    raw, corrected = [], []
    for t, probe, air, beer in chamber(0.05, 600.0, 72, yeast_c_per_h=0.5):
        est.feed(t, probe, air, heater_on=False)
        if t > 48 * 3600:
            raw.append(probe - beer)
            corrected.append(est.correct(probe) - beer)
    bias = [abs(sum(es) / len(es)) for es in (raw, corrected)]
    assert bias[0] > 0.15, "the test can tell: the raw reading is well off"
    assert bias[1] < 0.3 * bias[0]


def test_the_share_never_leaves_its_clamp() -> None:
    _, applied = learn(0.6, 300.0, 48)
    assert min(applied) >= 0.0
    assert max(applied) <= SHARE_MAX
    assert max(applied) == pytest.approx(SHARE_MAX), "a probe mostly in the air hits the clamp"


def test_a_probe_that_moves_against_the_air_learns_nothing() -> None:
    _, applied = learn(-0.05, 600.0, 48)
    assert max(applied) == 0.0


def test_dropouts_nan_and_none_cost_nothing_learned() -> None:
    est = AirShare()
    for t, probe, air, _ in chamber(0.05, 600.0, 72):
        hour = int(t // 3600)
        if hour % 7 == 3:
            est.feed(t, None, air, heater_on=False)  # the beer probe lost
        elif hour % 11 == 5:
            est.feed(t, probe, math.nan, heater_on=False)  # the chamber probe faulted
        elif hour % 13 == 6:
            continue  # no readings at all for an hour
        else:
            est.feed(t, probe, air, heater_on=False)
        assert math.isfinite(est.estimate)
        assert 0.0 <= est.share <= SHARE_MAX
    assert 0.02 <= est.share <= 0.06, "a fifth of the readings lost: learned all the same"
    assert math.isnan(est.correct(math.nan))
    assert est.correct(math.inf) == math.inf


def test_a_slower_read_interval_learns_too() -> None:
    """The daemon's read interval is configurable: one reading in 30 s still learns;
    one a minute averages out less noise per window, and what it cannot show
    clearly is not used (never a wrong share)."""
    for every_s, low in ((30.0, 0.02), (60.0, 0.0)):
        est = AirShare()
        for t, probe, air, _ in chamber(0.05, 600.0, 72):
            if t % every_s == 0.0:
                est.feed(t, probe, air, heater_on=False)
        assert low <= est.share <= 0.06, every_s


def test_with_no_share_learned_the_reading_is_left_as_it_is() -> None:
    est = AirShare()
    est.feed(0.0, 18.0, 5.0, heater_on=False)
    assert est.correct(18.0) == 18.0


def test_still_air_freezes_what_was_learned() -> None:
    est = AirShare()
    for t, probe, air, _ in chamber(0.05, 600.0, 72):
        est.feed(t, probe, air, heater_on=False)
    learned = est.share
    for n in range(1, int(24 * 3600 / READ_S)):  # the compressor stops; both readings hold
        if n * READ_S == 600.0:
            # past the windows that still hold the moving air
            windows, estimate = est.windows, est.estimate
        est.feed(t + n * READ_S, probe, air, heater_on=False)
    assert est.windows == windows, "no window of still air is learned from"
    assert est.estimate == estimate
    assert est.share == pytest.approx(learned, abs=0.002)
