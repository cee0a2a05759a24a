"""The plots in docs/control.md: three scenarios of the matrix, and the trade-off
between beer RMS and compressor starts.

    python -m bench._control_plots [--out docs/images]

Not a benchmark (make bench does not run it): it re-runs a few scenarios with
traces and draws them with matplotlib (the bench dependency group).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

from pi_daemon.control import Tuning

from ._control_baselines import GenericThermostat, Inkbird
from ._control_loop import (
    DAY_S,
    BeerPi,
    Plain,
    Run,
    Scenario,
    limits,
    metrics,
    run,
    settings_for,
)
from ._control_scenarios import MATRIX
from ._daemon import ROOT

PLOTTED = (
    ("control-ale-belt.png", "ale 20 L bucket, freezer, belt 25 W"),
    ("control-lager-diacetyl.png", "lager 20 L bucket, freezer, tube heater, diacetyl rest"),
    ("control-weak-crash.png", "cold crash to 2 °C, 20 L bucket, weak fridge"),
)
TRADE_OFF = "lager 20 L bucket, freezer, no heater"
BANDS_C = (1.0, 3.0, 6.0, 10.0, 16.0, 24.0)


def scenario(prefix: str) -> Scenario:
    return next(s for s in MATRIX if s.name.startswith(prefix))


def _relay_spans(r: Run, which: str) -> list[tuple[float, float]]:
    states = r.trace.heater if which == "heater" else r.trace.cooler
    spans, start = [], None
    for t, on in zip(r.trace.t_s, states, strict=True):
        if on and start is None:
            start = t
        elif not on and start is not None:
            spans.append((start / DAY_S, t / DAY_S))
            start = None
    if start is not None:
        spans.append((start / DAY_S, r.trace.t_s[-1] / DAY_S))
    return spans


def plot_scenario(sc: Scenario, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ours = run(sc, BeerPi(settings_for(sc)), trace_s=120.0)
    ink = run(sc, Plain(Inkbird(), Inkbird.name), trace_s=120.0)
    fig, axes = plt.subplots(3, 1, figsize=(12, 8), sharex=True, height_ratios=(3, 3, 1))
    top, air, relays = axes
    days = [t / DAY_S for t in ours.trace.t_s]
    top.plot(days, ours.trace.target_c, "k--", linewidth=1, label="target")
    top.plot(days, ours.trace.beer_c, linewidth=1.2, label="beer, BeerPi")
    top.plot(
        [t / DAY_S for t in ink.trace.t_s], ink.trace.beer_c, linewidth=0.9, label="beer, Inkbird"
    )
    top.set_ylabel("beer °C")
    top.legend(loc="best")
    top.grid(alpha=0.3)
    air.plot(days, ours.trace.air_c, linewidth=0.6, color="tab:cyan", label="chamber air")
    setpoints = [math.nan if v is None else v for v in ours.trace.setpoint_c]
    air.plot(days, setpoints, linewidth=1.0, color="tab:purple", label="BeerPi chamber set-point")
    air.plot(days, ours.trace.target_c, "k--", linewidth=0.8)
    air.set_ylabel("BeerPi's chamber °C")
    air.legend(loc="best")
    air.grid(alpha=0.3)
    for row, (name, which) in enumerate((("cooler", "cooler"), ("heater", "heater"))):
        for a, b in _relay_spans(ours, which):
            relays.axvspan(a, b, ymin=row / 2 + 0.05, ymax=row / 2 + 0.45, color=f"C{row + 3}")
        relays.text(days[-1], row / 2 + 0.25, f" {name}", va="center")
    relays.set_yticks([])
    relays.set_ylabel("BeerPi relays")
    relays.set_xlabel("day")
    m_ours, m_ink = metrics(ours, sc.programme), metrics(ink, sc.programme)
    fig.suptitle(
        f"{sc.name}\nBeerPi RMS {m_ours.rms_all_c:.2f} °C, {m_ours.compressor_per_day:.1f} "
        f"compressor starts/day; Inkbird {m_ink.rms_all_c:.2f} °C, "
        f"{m_ink.compressor_per_day:.1f}/day (whole run)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_trade_off(sc: Scenario, path: Path) -> list[tuple[float, float, float]]:
    """BeerPi with its compressor band allowed wider and wider, against the baselines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lim = limits(sc)
    points = []
    for band in BANDS_C:
        tuning = Tuning(
            chamber_band_max_c=band, chamber_band_wide_c=band, compressor_cycle_s=12 * 3600.0
        )
        settings = replace(settings_for(sc), tuning=tuning)
        m = metrics(run(sc, BeerPi(settings), judged_from=lim.transients), sc.programme)
        points.append((band, m.compressor_per_day, m.rms_c))
    default = metrics(run(sc, BeerPi(settings_for(sc)), judged_from=lim.transients), sc.programme)
    ink = metrics(run(sc, Plain(Inkbird(), "i"), judged_from=lim.transients), sc.programme)
    ha = metrics(run(sc, Plain(GenericThermostat(), "h"), judged_from=lim.transients), sc.programme)
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.plot([p[1] for p in points], [p[2] for p in points], "o-", label="BeerPi, band widened")
    for band, starts, rms in points:
        ax.annotate(f"≤{band:g} K", (starts, rms), textcoords="offset points", xytext=(5, 5))
    ax.plot([default.compressor_per_day], [default.rms_c], "s", ms=9, label="BeerPi default")
    ax.plot([ink.compressor_per_day], [ink.rms_c], "^", ms=9, label="Inkbird ITC-308")
    ax.plot([ha.compressor_per_day], [ha.rms_c], "v", ms=9, label="HA generic_thermostat")
    ax.axhline(ink.rms_c / 2, color="grey", linestyle=":", label="½ the Inkbird's RMS")
    ax.set_xlabel("compressor starts per day")
    ax.set_ylabel("beer RMS error °C")
    ax.set_title(f"{sc.name}: fewer starts cost precision")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, prefix in PLOTTED:
        plot_scenario(scenario(prefix), args.out / name)
        print(f"wrote {args.out / name}")
    points = plot_trade_off(scenario(TRADE_OFF), args.out / "control-trade-off.png")
    for band, starts, rms in points:
        print(f"band ≤ {band:g} K: {starts:.1f} compressor starts/day, beer RMS {rms:.3f} °C")
    print(f"wrote {args.out / 'control-trade-off.png'}")


if __name__ == "__main__":
    main()
