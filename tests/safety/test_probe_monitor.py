from __future__ import annotations

import pytest

from beerpi_protocol import FaultCode
from pi_daemon.safety import ProbeSample, SafetySettings
from pi_daemon.safety.probes import ProbeMonitor

SAFETY = SafetySettings()


def feed(monitor: ProbeMonitor, values: list[float | None], t0: float = 0.0) -> float:
    t = t0
    for value in values:
        monitor.update(ProbeSample(value, None, t), t)
        t += 10.0
    return t


@pytest.mark.parametrize(
    ("sample", "code"),
    [
        (ProbeSample(None, FaultCode.DISCONNECTED, 10.0), FaultCode.DISCONNECTED),
        (ProbeSample(None, FaultCode.CRC, 10.0), FaultCode.CRC),
        (ProbeSample(85.0, None, 10.0), FaultCode.RESET_85),
        (ProbeSample(61.0, None, 10.0), FaultCode.OUT_OF_RANGE),
        (ProbeSample(-25.0, None, 10.0), FaultCode.OUT_OF_RANGE),
        (ProbeSample(float("nan"), None, 10.0), FaultCode.OUT_OF_RANGE),
        (ProbeSample(27.0, None, 10.0), FaultCode.IMPLAUSIBLE_JUMP),
    ],
)
def test_bad_sample_is_a_fault_then_two_good_reads_clear_it(
    sample: ProbeSample, code: FaultCode
) -> None:
    monitor = ProbeMonitor("beer", SAFETY, start_s=0.0)
    feed(monitor, [18.0])
    assert monitor.value == 18.0
    monitor.update(sample, 10.0)
    assert monitor.value is None
    assert monitor.fault is not None
    assert monitor.fault.code == code
    feed(monitor, [18.0], t0=20.0)
    assert monitor.value is None  # one good read is not enough to trust it again
    feed(monitor, [18.1], t0=30.0)
    assert monitor.value == 18.1
    assert monitor.fault is None


def test_real_level_change_is_believed_after_agreeing_reads() -> None:
    monitor = ProbeMonitor("beer", SAFETY, start_s=0.0)
    feed(monitor, [18.0, 25.0, 25.0, 25.0])
    assert monitor.value == 25.0


def test_stale_when_no_good_reading_for_stale_time() -> None:
    monitor = ProbeMonitor("beer", SAFETY, start_s=0.0)
    feed(monitor, [18.0])
    monitor.update(None, 60.0)
    assert monitor.value == 18.0
    monitor.update(None, 61.0)
    assert monitor.fault is not None
    assert monitor.fault.code == FaultCode.STALE
    # The same old sample again does not count as new.
    monitor.update(ProbeSample(18.0, None, 0.0), 70.0)
    assert monitor.value is None


def test_stale_at_start_without_any_reading() -> None:
    monitor = ProbeMonitor("beer", SAFETY, start_s=100.0)
    monitor.update(None, 159.0)
    assert monitor.fault is None
    monitor.update(None, 161.0)
    assert monitor.fault is not None


def test_stuck_only_while_a_relay_drives_and_clears_when_value_moves() -> None:
    monitor = ProbeMonitor("fridge", SAFETY, start_s=0.0)
    t = 0.0
    while t <= SAFETY.stuck_s + 20:  # identical, relays off: fine
        monitor.update(ProbeSample(12.0, None, t), t)
        t += 10.0
    assert monitor.fault is None
    driving = t
    while t <= driving + SAFETY.stuck_s + 20:
        monitor.update(ProbeSample(12.0, None, t), t, driving_since_s=driving)
        t += 10.0
    assert monitor.fault is not None
    assert monitor.fault.code == FaultCode.STUCK
    for _ in range(3):  # relays now off, value still identical: stays stuck
        monitor.update(ProbeSample(12.0, None, t), t)
        t += 10.0
    assert monitor.fault is not None
    feed(monitor, [12.5, 12.4], t0=t)
    assert monitor.value == 12.4


def test_the_beer_probe_may_sit_on_one_step_while_a_relay_turns_it() -> None:
    """A beer turning under a compressor run stays on one DS18B20 step for as long as
    the turn takes (32 min in a 20 L bucket): not stuck. Two hours of it is."""
    beer = ProbeMonitor("beer", SAFETY, start_s=0.0, stuck_s=SAFETY.beer_stuck_s)
    air = ProbeMonitor("fridge", SAFETY, start_s=0.0)
    t = 0.0
    while t <= 50 * 60:  # a 50-minute run: the air's rule would have fired
        beer.update(ProbeSample(18.125, None, t), t, driving_since_s=0.0)
        t += 10.0
    assert beer.fault is None
    while t <= SAFETY.beer_stuck_s + 20:
        beer.update(ProbeSample(18.125, None, t), t, driving_since_s=0.0)
        t += 10.0
    assert beer.fault is not None
    assert beer.fault.code == FaultCode.STUCK
    assert "2 h" in beer.fault.message or "120 min" in beer.fault.message, beer.fault.message
    t = 0.0
    while t <= SAFETY.stuck_s + 20:
        air.update(ProbeSample(12.0, None, t), t, driving_since_s=0.0)
        t += 10.0
    assert air.fault is not None
