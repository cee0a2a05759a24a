"""A DS18B20 reads in 1/16 °C steps and, with the beer near a step's edge, flickers
between two of them. The beer loop's gain (kp 8) made each flicker a 0.5 °C jump of
the chamber set-point: half the compressor's narrowest band, enough to start it.
"""

from __future__ import annotations

import itertools
import random

from pi_daemon.control import Tuning
from pi_daemon.control.adaptive import AdaptiveControl
from pi_daemon.simulation.probes import quantise

READ_S = 5.0  # the daemon's read interval


def test_a_flickering_probe_does_not_shake_the_chamber_set_point() -> None:
    """Beer at 21.15 °C (between the 21.125 and 21.1875 codes) with 0.02 °C of noise,
    held at 21 °C, the air steady: an hour of readings."""
    rng = random.Random(7)
    control = AdaptiveControl(Tuning())
    setpoints: list[float] = []
    for n in range(720):
        control.demand(
            now_s=n * READ_S,
            dt_s=READ_S if n else 0.0,
            target_c=21.0,
            beer_c=quantise(21.15 + rng.gauss(0.0, 0.02)),
            air_c=20.0,
            heating=False,
            cooling=False,
            allow_heat=True,
            allow_cool=True,
        )
        assert control.setpoint_c is not None
        setpoints.append(control.setpoint_c)
    jumps = [abs(b - a) for a, b in itertools.pairwise(setpoints)][1:]
    # One 1/16 °C step of the reading is kp x 0.0625 = 0.5 °C of set-point unsmoothed,
    # half the compressor's narrowest band; through 150 s at a 5 s read, about 0.016.
    assert max(jumps) < 0.05
