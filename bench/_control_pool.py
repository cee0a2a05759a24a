"""The control matrix across a process pool, in pieces, the longest first.

One scenario is five pieces of work: the oracle's run (what physics allows),
then BeerPi, the Inkbird and Home Assistant's pair on it, and, where BeerPi
starts the compressor more often than the Inkbird, the ideal controller at the
Inkbird's count (the longest piece by far: a search over the plant's future at
every period). A pool fed whole scenarios idles a core while the last one
runs alone; fed these pieces as they become ready, the ideal runs first (they
hold up their scenario's line), then BeerPi's and the Inkbird's runs (which
decide whether an ideal run is needed), then the rest, longer programmes
before shorter. Every piece is the same function as in a serial run, so the
numbers are the same; only the order of the work differs.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from . import control
from ._control_loop import Limits, limits
from ._control_scenarios import MATRIX

Entry = dict[str, Any]
# Lower runs first.
_RANK = {"ideal": 0, "limits": 1, "BeerPi": 2, "Inkbird": 2, "HA": 3}


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    started = time.monotonic()
    return fn(*args), time.monotonic() - started


def _limits(index: int, seconds: float | None) -> Limits:
    return limits(MATRIX[index], seconds)


class _Plan:
    """What is done and what can run next, per scenario."""

    def __init__(self, indexes: tuple[int, ...], seconds: float | None) -> None:
        self.seconds = seconds
        self.lim: dict[int, Limits] = {}
        self.results: dict[int, dict[str, Entry]] = {i: {} for i in indexes}
        self.ideal: dict[int, Entry | None] = {}
        self.took: dict[int, float] = dict.fromkeys(indexes, 0.0)
        self.ready: list[tuple[str, int]] = [("limits", i) for i in indexes]

    def next_task(self) -> tuple[str, int]:
        def order(task: tuple[str, int]) -> tuple[int, float]:
            kind, index = task
            return _RANK[kind], -MATRIX[index].programme.seconds

        self.ready.sort(key=order)
        return self.ready.pop(0)

    def call(self, kind: str, index: int) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        if kind == "limits":
            return _limits, (index, self.seconds)
        if kind == "ideal":
            ink = self.results[index]["Inkbird"]
            return control.run_ideal, (index, ink, self.lim[index], self.seconds)
        return control.run_contender, (index, kind, self.lim[index], self.seconds)

    def done(self, kind: str, index: int, value: Any, took_s: float) -> None:
        self.took[index] += took_s
        if kind == "limits":
            self.lim[index] = value
            self.ready += [(key, index) for key in control.CONTROLLERS]
        elif kind == "ideal":
            self.ideal[index] = value
        else:
            got = self.results[index]
            got[kind] = value
            if kind in ("BeerPi", "Inkbird") and {"BeerPi", "Inkbird"} <= set(got):
                if control.needs_ideal(got["BeerPi"], got["Inkbird"]):
                    self.ready.append(("ideal", index))
                else:
                    self.ideal[index] = None

    def complete(self, index: int) -> bool:
        return index in self.ideal and len(self.results[index]) == len(control.CONTROLLERS)


def evaluate_all(indexes: tuple[int, ...], seconds: float | None, jobs: int) -> list[Entry]:
    """The matrix's entries for ``indexes`` (in that order), on ``jobs`` processes."""
    plan = _Plan(indexes, seconds)
    context = multiprocessing.get_context("spawn")
    running: dict[Future[tuple[Any, float]], tuple[str, int]] = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        while plan.ready or running:
            # Only as many in flight as there are workers: the rest wait in plan order.
            while plan.ready and len(running) < jobs:
                kind, index = plan.next_task()
                fn, args = plan.call(kind, index)
                running[pool.submit(_timed, fn, *args)] = (kind, index)
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                kind, index = running.pop(future)
                value, took_s = future.result()
                plan.done(kind, index, value, took_s)
    assert all(plan.complete(i) for i in indexes)
    return [
        control.entry(i, seconds, plan.lim[i], plan.results[i], plan.ideal[i], plan.took[i])
        for i in indexes
    ]
