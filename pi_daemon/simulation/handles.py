"""What the `simulate` request acts on, and the simulated fermenter's state on disk.

A restarted simulation carries on from the temperatures it had, so a demo or a
test that restarts the daemon sees no jump (the beer would otherwise be back
at its initial 20 °C). The state is written atomically every record interval
and at exit; a missing or unreadable file starts from the config's values.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from pathlib import Path

from pi_daemon.files import write_atomic

from .chamber import ChamberModel
from .fermenter import SimulatedFermenter
from .probes import SimulatedProbe

_LOGGER = logging.getLogger(__name__)
# 2: the physics plant's every node; 1 (the old two-node model's beer and air) still loads.
FORMAT_VERSION = 2
_READABLE = (1, 2)
_PLAUSIBLE_C = (-50.0, 150.0)
_PLAUSIBLE_W = (0.0, 10_000.0)


def _number(value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("not a number")
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError("out of range")
    return float(value)


def load_model_state(path: Path, model: ChamberModel) -> bool:
    """Put the stored state into ``model``; False when there was none to use."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("version") not in _READABLE:
            raise ValueError("not a fermenter state")
        beer_c = _number(document.get("beer_c"), *_PLAUSIBLE_C)
        air_c = _number(document.get("air_c"), *_PLAUSIBLE_C)
        elapsed_s = _number(document.get("elapsed_s"), 0.0, math.inf)
        temps_c: list[float] | None = None
        fermented = cooling_w = 0.0
        if document["version"] == 2:
            nodes = document.get("temps_c")
            if not isinstance(nodes, list) or len(nodes) != len(model.plant.temps):
                raise ValueError("temps_c: not one temperature per node")
            temps_c = [_number(t, *_PLAUSIBLE_C) for t in nodes]
            fermented = _number(document.get("fermented"), 0.0, 1.0)
            cooling_w = _number(document.get("cooling_w"), *_PLAUSIBLE_W)
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as err:
        _LOGGER.warning("simulation: ignoring %s: %s", path, err)
        return False
    model.restore(
        beer_c=beer_c,
        air_c=air_c,
        elapsed_s=elapsed_s,
        temps_c=temps_c,
        fermented=fermented,
        cooling_w=cooling_w,
    )
    return True


class Simulation:
    def __init__(
        self,
        fermenter: SimulatedFermenter,
        probes: dict[str, SimulatedProbe],
        state_path: Path | None = None,
    ) -> None:
        self.fermenter = fermenter
        self.probes = probes
        self._state_path = state_path

    def _document(self) -> str:
        return json.dumps({"version": FORMAT_VERSION, **self.fermenter.snapshot()}) + "\n"

    async def checkpoint(self) -> None:
        if self._state_path is not None:
            document = self._document()
            try:
                await asyncio.to_thread(write_atomic, self._state_path, document)
            except OSError as err:
                _LOGGER.warning("simulation: cannot keep its state: %s", err)

    def save(self) -> None:
        if self._state_path is not None:
            try:
                write_atomic(self._state_path, self._document())
            except OSError as err:
                _LOGGER.warning("simulation: cannot keep its state: %s", err)
