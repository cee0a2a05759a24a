"""Every safety rule of BeerPi, in one package. Start here.

The beer must be safe whatever Home Assistant, the network, the web service or
a buggy client does, so these rules run on the Pi and every relay change goes
through one gate. Each number is defined once, in ``limits.py``; the daemon's
config takes its defaults from there.

1. **One gate** (``gate.py``). The thermostat's decisions, a switch by hand
   from any client (socket.io, the web service's API, the dial-out link), the
   safety offs below, the watchdog and shutdown all switch relays through
   ``RelayGate``. Switching off is always allowed at once (the thermostat's
   own decisions keep a relay on for its minimum on time); offs go before ons.
2. **Interlock** (``gate.py``). Heater and cooler are never on together.
   Switching one on by hand while the other is on is refused with
   ``interlock`` ("cooler is on: switch it off first"). The thermostat starts
   the other only ``changeover_s`` after one stopped (the gate checks) and
   once the beer is ``changeover_c`` past the target (the thermostat checks),
   so it does not chase the air's coasting swing with the opposite relay.
3. **Relay guard** (``guard.py``). Minimum on and off times per relay (a
   compressor rests at least 5 min), and a maximum run time, after which a
   relay with no effect (rule 6) is switched off and locked out for a rest (a
   mode change clears it); one whose effect is seen runs on (a long pull-down
   is not a fault), and without a chamber reading to judge by any relay is.
   The relays' last switches are kept on disk (``history.py``), so a restart
   keeps the rests and the changeover; the compressor rests from every
   start-up whatever it says, and as that file may be stale (a data dir that
   refuses writes), one not saved just before the start-up (it is rewritten
   every minute) makes the relay opposite one the thermostat drove when it
   stopped wait the changeover from start-up. A failed write raises ``storage``.
4. **Probe faults and stale readings** (``probes.py``). A read error, the
   DS18B20's 85.0 °C reset value, a reading out of range, an implausible
   jump, no good reading for ``stale_s``, or a value stuck while its relay
   runs (30 min for the chamber air, 2 h for the beer, which turns slowly):
   the thermostat's probe in fault holds heater and cooler off (by hand
   too: the cut-offs are blind without it) in the step that saw it. Two good
   reads in a row clear it.
5. **Cut-offs** (``cutoff.py``). Beer above the high or below the low cut-off:
   heater and cooler off and held until it is back inside by the hysteresis.
6. **Relay effect** (``effect.py``). A relay on for its ``no_effect_s`` while
   neither the chamber air nor the beer has moved its way raises ``no_effect``;
   past its maximum run time such a relay is locked out (rule 3).
7. **Watchdog** (``watchdog.py``). A thread switches every relay off when no
   control step has completed for ``safety.watchdog_s`` real seconds, and
   raises ``watchdog``; both clear when the loop runs again.
8. **Link loss** (``link.py``). Nothing remote stops local control: a refused
   or lost dial-out link only raises ``link`` and retries with capped backoff.
   Only a signal stops the daemon (SIGTERM, SIGINT and the others whose default
   is to end the process: ``app.STOP_SIGNALS``, each through the shutdown that
   switches the relays off first); a crashed task is restarted.

``supervisor.py`` applies rules 3 to 6 once per control step and tells the
gate which relays to hold off.
"""

from .faults import Fault
from .gate import Cause, Refusal, RelayGate, RelayRules, Switch
from .guard import RelayGuard
from .limits import COOLER_TIMING, FREE_TIMING, HEATER_TIMING, RelayTiming, SafetySettings
from .samples import ProbeSample
from .supervisor import Assessment, SafetySupervisor

__all__ = [
    "COOLER_TIMING",
    "FREE_TIMING",
    "HEATER_TIMING",
    "Assessment",
    "Cause",
    "Fault",
    "ProbeSample",
    "Refusal",
    "RelayGate",
    "RelayGuard",
    "RelayRules",
    "RelayTiming",
    "SafetySettings",
    "SafetySupervisor",
    "Switch",
]
