"""BeerPi's thermostat, fermentation profiles and safety rules: pure, no I/O.

The daemon builds one ``Thermostat`` from ``ControlSettings`` and calls
``Thermostat.step`` once per probe read period; see thermostat.py.
"""

from .decision import ControlDecision
from .faults import Fault
from .profile import (
    Profile,
    ProfilePoint,
    parse_profile,
    profile_point,
    profile_progress,
    profile_target_at,
)
from .profile_store import ActiveProfile, ProfileStoreError, load_profile, save_profile
from .relay_guard import RelayGuard
from .samples import ProbeSample
from .settings import ControlSettings, RelayTiming, SafetySettings, Tuning
from .thermostat import Thermostat
from .watchdog import Watchdog

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
    "Watchdog",
    "load_profile",
    "parse_profile",
    "profile_point",
    "profile_progress",
    "profile_target_at",
    "save_profile",
]
