"""BeerPi's thermostat and fermentation profiles: pure, no I/O.

The daemon builds one ``Thermostat`` from ``ControlSettings`` and calls
``Thermostat.step`` once per probe read period; see thermostat.py. The safety
rules it obeys live in ``pi_daemon.safety``.
"""

from pi_daemon.safety import Fault, ProbeSample, RelayGuard, RelayTiming, SafetySettings

from .decision import ControlDecision
from .profile import (
    Profile,
    ProfilePoint,
    parse_profile,
    profile_point,
    profile_progress,
    profile_target_at,
)
from .profile_store import ActiveProfile, ProfileStoreError, load_profile, save_profile
from .settings import ControlSettings, Tuning
from .thermostat import Thermostat, driven_relays

__all__ = [
    "ActiveProfile",
    "ControlDecision",
    "ControlSettings",
    "Fault",
    "ProbeSample",
    "Profile",
    "ProfilePoint",
    "ProfileStoreError",
    "RelayGuard",
    "RelayTiming",
    "SafetySettings",
    "Thermostat",
    "Tuning",
    "driven_relays",
    "load_profile",
    "parse_profile",
    "profile_point",
    "profile_progress",
    "profile_target_at",
    "save_profile",
]
