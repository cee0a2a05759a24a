"""The daemon's side of the pure control package: persistence and the request rules.

``pi_daemon.control.Thermostat`` decides; this wrapper keeps its mode, target
and running profile in the data dir (so a power cut resumes where it was),
builds the relay rules (carried on from the relays' history on disk) that the
thermostat plans with and the daemon's gate enforces, checks a whole command
before applying any of it, and reports faults of probes the thermostat does
not watch itself.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from beerpi_protocol import FaultCode, FaultInfo, ThermostatMode, ThermostatState
from beerpi_protocol.timestamps import iso

from .clock import Clock
from .config import DaemonConfig
from .control import (
    ActiveProfile,
    ControlDecision,
    ControlSettings,
    ProbeSample,
    ProfileStoreError,
    Thermostat,
    driven_relays,
    load_profile,
    parse_profile,
    save_profile,
)
from .control.profile_run import pause, resume, skip
from .files import write_atomic
from .gravity.book import GravityPoint
from .safety import RelayRules
from .safety.history import load_guards
from .safety.limits import DS18B20_RESET_C
from .set_aside import SetAside, set_aside

_LOGGER = logging.getLogger(__name__)


class DaemonThermostat:
    def __init__(
        self,
        settings: ControlSettings,
        data_dir: Path,
        clock: Clock,
        *,
        initial_mode: str,
        relay_ids: Iterable[str] = (),
    ) -> None:
        self.settings = s = settings
        self._settings_path = data_dir / "thermostat.json"
        self._profile_path = data_dir / "profile.json"
        self.history_path = data_dir / "relays.json"
        start_s = clock.monotonic()
        self._now = clock.now
        # Files the daemon could not use and moved aside (the daemon raises their fault).
        self.set_aside: list[SetAside] = []
        stored, damaged = self._read_stored()
        relays = {*relay_ids} | {r for r in (s.heater, s.cooler) if r is not None}
        # relays.json may be stale (it stops changing when the data dir refuses writes):
        # the compressor rests from start-up whatever it says, and unless it was saved
        # just before start-up (or there is none: no switch was ever made), the relays
        # the stored mode drove may have run until the stop (safety/history.py).
        # thermostat.json is stale about the mode only after a mode off it could not
        # store (every other change is stored before it takes effect, or refused): it
        # then names a mode that drove relays which were off, the safe side to err on.
        # A damaged file names no mode it can be trusted on: either relay may have run.
        ran_mode = ThermostatMode.parse((stored or {}).get("mode", initial_mode))
        if damaged is not None or ran_mode is None:
            ran_mode = ThermostatMode.HEAT_COOL
        guards = load_guards(
            self.history_path,
            {rid: s.timing(rid) for rid in sorted(relays)},
            start_s=start_s,
            now_wall=clock.now(),
            resting=[s.cooler] if s.cooler else [],
            may_have_run=driven_relays(s, ran_mode),
        )
        self.rules = RelayRules(
            guards,
            interlock=(s.heater, s.cooler) if s.heater and s.cooler else None,
            changeover_s=s.safety.changeover_s,
        )
        self._thermostat = Thermostat(settings, start_s=start_s, rules=self.rules)
        self._watched = {settings.probe, settings.chamber_probe} - {None}
        self._probe_faults: dict[str, FaultCode] = {}
        self._extra_faults: tuple[FaultInfo, ...] = ()
        self._unsaved: str | None = None
        self._restore(initial_mode, stored, damaged)

    # -- persistence ---------------------------------------------------------

    def _read_stored(self) -> tuple[dict[str, Any] | None, str | None]:
        """thermostat.json's mode and target (None when there is none or it is damaged),
        and why it is damaged (None when it is not)."""
        path = self._settings_path
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError) as err:
            # An unreadable file's stored mode is unknown: the relays' rests are kept as
            # though it drove both, so set it aside only once they are (see __init__).
            return None, f"{path} is unreadable ({err})"
        # The daemon always writes both: a file without them was not written whole.
        if not isinstance(stored, dict) or not {"mode", "target"} <= stored.keys():
            return None, f"{path} does not hold thermostat settings"
        return stored, None

    def _restore(
        self, initial_mode: str, stored: Mapping[str, Any] | None, damaged: str | None
    ) -> None:
        """The stored mode and target, each kept where the config still allows it.

        A refusal here is the file's, kept from an earlier run or an earlier config (a
        narrower target range, a relay taken out): the part the config refuses falls
        back, the other part stands, so that a brewer who narrowed ``max_target`` does
        not find the fridge switched off.
        """
        t = self._thermostat
        mode, target = initial_mode, self.settings.default_target_c
        mode_from = "[thermostat] initial_mode"
        target_from = "initial_target"
        refused: list[str] = []
        if stored is not None:
            try:
                t.set_mode(stored["mode"])
                mode, mode_from = t.mode.value, "its stored mode"
            except ValueError as err:
                refused.append(str(err))
            try:
                t.set_target(stored["target"])
                target, target_from = t.target_c, "its stored target"
            except ValueError as err:
                refused.append(str(err))
                nearest = self._nearest_target(stored["target"])
                if nearest is not None:
                    target, target_from = nearest, "the nearest target the config allows"
        if refused:
            damaged = (
                f"{self._settings_path} holds a mode and target this config refuses: "
                + "; ".join(refused)
            )
        t.set_mode(mode)
        t.set_target(target)
        profile_resumed = self._resume_profile()
        if damaged is None:
            if stored is not None:
                _LOGGER.info("thermostat restored: mode %s, target %s °C", mode, target)
            return
        instead = f"the thermostat started in {mode_from} ({mode}) at {target_from} ({target:g} °C)"
        if profile_resumed:
            instead += ", and the running profile sets the target"
        if t.mode is ThermostatMode.OFF:
            instead += ": it heats and cools nothing until a mode is set"
        self._put_aside(self._settings_path, damaged, instead)

    def _nearest_target(self, value: object) -> float | None:
        """A stored target within the config's range, or None when it is no number."""
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            return None
        return min(max(float(value), self.settings.target_min_c), self.settings.target_max_c)

    def _resume_profile(self) -> bool:
        """Resume profile.json's profile; True if one runs. A damaged one is set aside."""
        try:
            profile = load_profile(
                self._profile_path,
                min_c=self.settings.target_min_c,
                max_c=self.settings.target_max_c,
            )
            self._thermostat.resume_profile(profile)
        except (ValueError, ProfileStoreError) as err:
            self._put_aside(
                self._profile_path,
                str(err),
                "no profile runs (start it again from Home Assistant or the current page)",
            )
            return False
        return profile is not None

    def _put_aside(self, path: Path, why: str, instead: str) -> None:
        self.set_aside.append(set_aside(path, why, instead, now=self._now()))

    def _document(self) -> str:
        t = self._thermostat
        return json.dumps({"mode": t.mode.value, "target": t.target_c}) + "\n"

    def _write_document(self, document: str) -> None:
        write_atomic(self._settings_path, document)

    def _save(self, mode: str, target: float) -> None:
        self._write_document(json.dumps({"mode": mode, "target": target}) + "\n")

    # -- what the loop and the request handler use ---------------------------

    def controlled_relays(self) -> frozenset[str]:
        return frozenset(self._thermostat.controlled_relays)

    def probe_faults(self) -> Mapping[str, FaultCode]:
        return self._probe_faults

    def step(
        self,
        now_s: float,
        now: datetime,
        samples: Mapping[str, ProbeSample],
        relays_on: Mapping[str, bool],
    ) -> ControlDecision:
        decision = self._thermostat.step(now_s, now, samples, relays_on)
        faults: dict[str, FaultCode] = {
            f.source: f.code for f in decision.faults if f.source in self._watched and f.code
        }
        # Probes the thermostat does not control still get their faults reported.
        extra: list[FaultInfo] = []
        for probe_id, sample in samples.items():
            if probe_id in self._watched:
                continue
            code = sample.error
            if code is None and sample.temperature == DS18B20_RESET_C:
                code = FaultCode.RESET_85
            if code is not None:
                faults[probe_id] = code
                extra.append(
                    FaultInfo(
                        source=probe_id, code=code, message=f"{probe_id}: {code}", since=iso(now)
                    )
                )
        self._probe_faults = faults
        self._extra_faults = tuple(extra)
        return decision

    def end_step_on_gravity(
        self, now: datetime, history: Callable[[str | None], Sequence[GravityPoint]]
    ) -> bool:
        """End a profile step whose gravity has come, and keep that on disk; True if one ended.

        A failed write is logged and the step ends anyway (the beer does not
        wait for the SD card); a restart before a good write would wait on the
        gravity again, which comes again.
        """
        active = self._thermostat.end_step_on_gravity(now, history)
        if active is None:
            return False
        step = max(active.ended)
        _LOGGER.info("profile %r: step %d ended on gravity", active.profile.name, step + 1)
        try:
            save_profile(self._profile_path, active)
        except OSError as err:
            _LOGGER.warning("cannot store the profile's progress: %s", err)
        return True

    def pause_profile(self, now: datetime) -> None:
        """Hold the running profile; ProfileCommandError when none runs or it is paused."""
        self._replace_profile(pause(self._thermostat.active_profile, now))

    def resume_profile(self, now: datetime) -> None:
        self._replace_profile(resume(self._thermostat.active_profile, now))

    def skip_step(self, now: datetime, step: int | None) -> None:
        """End the running step now (if it is ``step``, when given)."""
        active = skip(self._thermostat.active_profile, now, step)
        ended = max(active.ended)
        _LOGGER.info("profile %r: step %d skipped", active.profile.name, ended + 1)
        self._replace_profile(active)

    def _replace_profile(self, active: ActiveProfile) -> None:
        """Stored first, then applied: an OSError from the data dir changes nothing."""
        save_profile(self._profile_path, active)
        self._thermostat.resume_profile(active)

    def faults(self, decision: ControlDecision) -> tuple[FaultInfo, ...]:
        return decision.faults + self._extra_faults

    def to_state(self, now: datetime | None = None) -> ThermostatState:
        """The thermostat's state; with ``now``, its profile's progress at that moment."""
        return self._thermostat.to_state(now)

    def check_target(self, target: float) -> None:
        s = self.settings
        if not math.isfinite(target) or not s.target_min_c <= target <= s.target_max_c:
            raise ValueError(f"target must be between {s.target_min_c:g} and {s.target_max_c:g} °C")

    def check_profile(self, profile: Mapping[str, Any]) -> None:
        parse_profile(profile, min_c=self.settings.target_min_c, max_c=self.settings.target_max_c)

    def check_mode(self, mode: str) -> None:
        parsed = ThermostatMode.parse(mode)
        s = self.settings
        if parsed is None:
            raise ValueError(f"unknown mode {mode!r}")
        if parsed in (ThermostatMode.HEAT, ThermostatMode.HEAT_COOL) and s.heater is None:
            raise ValueError(f"mode {mode} needs a heater, none is configured")
        if parsed in (ThermostatMode.COOL, ThermostatMode.HEAT_COOL) and s.cooler is None:
            raise ValueError(f"mode {mode} needs a cooler, none is configured")

    def update(
        self,
        *,
        mode: str | None,
        target: float | None,
        profile: Mapping[str, Any] | None,
        set_profile: bool,
        now: datetime,
    ) -> tuple[str, ...]:
        """Apply a checked command whole: stored first, so a failed save changes nothing,
        except a mode off, which applies unsaved (see ``unsaved``).

        A new target stops a running profile (a person overrides it). Returns the
        relays the thermostat let go of; the caller switches them off. Raises
        ValueError for bad values and OSError when the data dir refuses the write.
        """
        t = self._thermostat
        s = self.settings
        new_mode = t.mode.value if mode is None else mode
        new_target = t.target_c if target is None else target
        if target is None and set_profile and profile is None and t.active_profile is not None:
            # Cleared: the target the profile had reached stays (the brewer takes over
            # from there), not the manual one stored before the profile started.
            new_target = round(t.target_at(now), 2)
        active = t.active_profile
        if set_profile:
            active = (
                None
                if profile is None
                else ActiveProfile(
                    parse_profile(profile, min_c=s.target_min_c, max_c=s.target_max_c), now
                )
            )
        elif target is not None:
            active = None
        old_document = self._document()
        try:
            self._save(new_mode, new_target)
            if active is not t.active_profile or self._unsaved is not None:
                try:
                    save_profile(self._profile_path, active)
                except OSError:
                    self._write_document(old_document)
                    raise
        except OSError as err:
            if mode != ThermostatMode.OFF.value:
                raise  # only a person's off goes ahead unsaved (a target alone does not)
            # Off is always allowed at once, even when the data dir refuses writes (a
            # full SD card): a person switching the thermostat off is the only way to
            # stop a relay it drives. Applied unsaved; `unsaved` says so until stored.
            self._unsaved = f"cannot store the thermostat settings: {err}"
        else:
            self._unsaved = None
        t.set_target(new_target)
        t.resume_profile(active)
        return t.set_mode(new_mode)

    @property
    def unsaved(self) -> str | None:
        """Why the settings in force are not on disk (a mode off the data dir refused)."""
        return self._unsaved

    def save_unsaved(self) -> None:
        """Store the settings applied unsaved; OSError while the data dir still refuses."""
        if self._unsaved is None:
            return
        self._write_document(self._document())
        save_profile(self._profile_path, self._thermostat.active_profile)
        self._unsaved = None


def build_thermostat(config: DaemonConfig, data_dir: Path, clock: Clock) -> DaemonThermostat:
    section = config.thermostat
    return DaemonThermostat(
        section.control_settings(),
        data_dir,
        clock,
        initial_mode=section.initial_mode,
        relay_ids=[r.id for r in config.relays],
    )
