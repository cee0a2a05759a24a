"""The controller's trade-offs a brewer sets in daemon.toml's [thermostat], on simulated time.

A 20 L lager in glass in a weak fridge, its probe taped to the carboy, held at
10 °C for three days, and the matrix's 5 L carboy in a weak fridge for a wide
ripple allowance (bench/_control_loop.py): what each setting changes is what the
brewer would see in the beer's history and the compressor's starts.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bench._control_loop import (
    HOUR_S,
    BeerPi,
    Metrics,
    Programme,
    hold,
    limits,
    metrics,
    run,
    settings_for,
)
from bench._control_scenarios import MATRIX
from pi_daemon.config import ConfigError, load_config
from pi_daemon.control import Tuning

pytestmark = pytest.mark.scenario_harness  # arithmetic on simulated time: once, on 3.14

TAPED_LAGER = "lager 20 L carboy, weak fridge, taped probe, belt 25 W"
SKIP = [(0.0, 12 * HOUR_S)]  # the pull-down from pitching


def tuning_from(tmp_path: Path, thermostat: str) -> Tuning:
    """The controller's tuning as the daemon loads it from daemon.toml's [thermostat]."""
    path = tmp_path / "daemon.toml"
    path.write_text(f"simulate = true\n[server]\ntoken = '{'t' * 32}'\n[thermostat]\n{thermostat}")
    return load_config(path).thermostat.control_settings().tuning


def hold_lager(tmp_path: Path, thermostat: str) -> tuple[Metrics, float]:
    """Three days of the taped lager under the daemon's config: (metrics, share used)."""
    tuning = tuning_from(tmp_path, thermostat)
    base = next(s for s in MATRIX if s.name == TAPED_LAGER)
    sc = replace(base, programme=Programme(12.0, (hold(10.0, 3),)))
    controller = BeerPi(replace(settings_for(sc), tuning=tuning))
    result = run(sc, controller, judged_from=SKIP)
    return metrics(result, sc.programme), controller.thermostat._adaptive.air_share.share


def test_a_looser_ripple_allowance_trades_closeness_for_fewer_compressor_starts(
    tmp_path: Path,
) -> None:
    default, _ = hold_lager(tmp_path, "")
    loose, _ = hold_lager(tmp_path, "beer_ripple_max = 0.3\n")
    never_past_10, _ = hold_lager(tmp_path, "beer_ripple_max = 0\n")
    # 3 days: 25.7 starts a day at RMS 0.076; 13.7 at 0.129; 40.7 at 0.064.
    assert loose.compressor_per_day < 0.7 * default.compressor_per_day
    assert loose.rms_c > default.rms_c
    assert never_past_10.compressor_per_day > 1.3 * default.compressor_per_day
    for m in (default, loose, never_past_10):
        assert m.fights == 0
        assert m.max_c < 0.5


def small_carboy(tmp_path: Path, thermostat: str) -> Metrics:
    """The matrix's 5 L carboy in the weak fridge, its whole week, under the daemon's config."""
    tuning = tuning_from(tmp_path, thermostat)
    sc = next(s for s in MATRIX if s.name == "ale 5 L carboy, weak fridge, belt 100 W")
    # Judged as the bench judges it: not while the beer is on its way to a new target.
    skip = limits(sc).transients
    result = run(sc, BeerPi(replace(settings_for(sc), tuning=tuning)), judged_from=skip)
    return metrics(result, sc.programme)


def test_a_wide_ripple_allowance_never_leaves_a_warm_beer_without_the_compressor(
    tmp_path: Path,
) -> None:
    """At 0.4 °C the band once widened past the air the weak fridge reaches by itself:
    the compressor stayed off for 12 h at the yeast's peak, the beer 1.6-2.2 °C warm
    (RMS 0.605; at 1.0 °C, 1.247). The band now narrows to the air once it has kept
    the compressor off for longer than a long cycle while the loop asks for all the
    cooling it may. The default is untouched by it (7.1 starts a day at RMS 0.108)."""
    default = small_carboy(tmp_path, "")
    for allowed in (0.4, 1.0):
        loose = small_carboy(tmp_path, f"beer_ripple_max = {allowed}\n")
        assert loose.compressor_per_day < 0.9 * default.compressor_per_day
        assert loose.rms_c < 0.25, allowed
        assert loose.holds_settled == loose.holds
    # Where the ideal controller at the Inkbird's 6.4 starts a day reaches RMS 0.140
    # (the goal: 0.148), a brewer's 0.35 gets both: 6.0 starts at 0.136.
    both = small_carboy(tmp_path, "beer_ripple_max = 0.35\n")
    assert both.compressor_per_day <= 45 / 7  # the Inkbird's 45 starts in the week
    assert both.rms_c <= 0.148


def test_the_taped_probe_correction_can_be_turned_off(tmp_path: Path) -> None:
    corrected, share = hold_lager(tmp_path, "")
    as_read, none = hold_lager(tmp_path, "probe_air_share_max = 0\n")
    assert 0.03 < share <= 0.3  # the plant's probe feels 5 % of the air
    assert none == 0.0
    # Read as it is, the probe reads the cold air too: the beer is held warm.
    assert as_read.mean_c > corrected.mean_c + 0.1


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("beer_ripple_max = -0.1\n", "thermostat.beer_ripple_max"),
        ("beer_ripple_max = 'wide'\n", "thermostat.beer_ripple_max"),
        ("probe_air_share_max = 0.8\n", "thermostat.probe_air_share_max"),
    ],
)
def test_a_bad_trade_off_is_refused_by_name(tmp_path: Path, line: str, field: str) -> None:
    path = tmp_path / "daemon.toml"
    path.write_text(f"simulate = true\n[thermostat]\n{line}")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert field in str(caught.value)
