"""Builds the daemon's thermostat from the config (placeholder until the control package lands)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from beerpi_protocol import FaultCode, ThermostatAction, ThermostatMode, ThermostatState

from .clock import Clock
from .config import DaemonConfig
from .thermostat_port import Decision, ProbeSample


class BasicThermostat:
    def __init__(self, config: DaemonConfig) -> None:
        self._t = config.thermostat
        self._mode = ThermostatMode(self._t.initial_mode)
        self._target = self._t.initial_target
        self._faults: dict[str, FaultCode] = {}

    def controlled_relays(self) -> frozenset[str]:
        if self._mode is ThermostatMode.OFF:
            return frozenset()
        return frozenset(r for r in (self._t.heater, self._t.cooler) if r)

    def relay_wait_s(self, relay: str, on: bool, now_s: float) -> float:
        return 0.0

    def record_switch(self, relay: str, on: bool, now_s: float) -> None:
        pass

    def probe_faults(self) -> Mapping[str, FaultCode]:
        return self._faults

    def step(
        self,
        now_s: float,
        now: datetime,
        samples: Mapping[str, ProbeSample],
        relays_on: Mapping[str, bool],
    ) -> Decision:
        self._faults = {
            pid: s.error or FaultCode.RESET_85
            for pid, s in samples.items()
            if s.error is not None or s.temperature == 85.0
        }
        return Decision(relays={})

    def to_state(self) -> ThermostatState:
        return ThermostatState(
            mode=self._mode,
            target=self._target,
            action=ThermostatAction.OFF
            if self._mode is ThermostatMode.OFF
            else ThermostatAction.IDLE,
            probe=self._t.probe,
        )

    def set_mode(self, mode: str) -> None:
        self._mode = ThermostatMode(mode)

    def check_target(self, target: float) -> None:
        if not math.isfinite(target) or not self._t.min_target <= target <= self._t.max_target:
            raise ValueError(
                f"target must be between {self._t.min_target:g} and {self._t.max_target:g} °C"
            )

    def check_profile(self, profile: Mapping[str, Any]) -> None:
        raise ValueError("profiles are not supported yet")

    def set_target(self, target: float) -> None:
        self.check_target(target)
        self._target = target

    def set_profile(self, profile: Mapping[str, Any] | None, now: datetime) -> None:
        if profile is not None:
            self.check_profile(profile)


def build_thermostat(config: DaemonConfig, data_dir: Path, clock: Clock) -> BasicThermostat:
    return BasicThermostat(config)
