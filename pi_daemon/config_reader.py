"""Strict readers for the daemon's TOML config: each wrong value is one problem naming its key.

The protocol's readers (``beerpi_protocol.models``) are lenient on purpose, so
that an old client survives a newer daemon. A config file is the opposite case:
a brewer's typo must stop the daemon, so these readers refuse unknown keys and
wrong types, and collect every problem before the start is refused. A value
that passes is stored under its key; a key not given is left out, so each
default is written once, in the section's dataclass (and the safety ones come
from ``pi_daemon.safety.limits``).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Collection, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from beerpi_guard.config_file import problem_line

_MISSING: Any = object()
_REPR_MAX = 40


class Problems:
    """Every problem found in one config, each as ``dotted.key: what is wrong``.

    ``from_command_line`` holds the keys an option set over the file: a problem
    with one says so, or the brewer would look for it in a file that is right.
    """

    def __init__(self, from_command_line: Collection[str] = ()) -> None:
        self.lines: list[str] = []
        self.from_command_line = frozenset(from_command_line)

    def add(self, where: str, message: str) -> None:
        if where in self.from_command_line:
            where = f"{where} (from the command line)"
        self.lines.append(problem_line(where, message))

    def __len__(self) -> int:
        return len(self.lines)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _REPR_MAX else text[: _REPR_MAX - 3] + "..."


def _quoted(value: Any, kind: str) -> str:
    """A hint when a TOML value was written in quotes, which makes it text.

    Only when the unquoted value is one ``kind`` ("boolean", "integer", "number")
    takes: "1" for a true/false key, or "1.5" for a whole number, would be
    refused again without its quotes.
    """
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if kind == "boolean":
        ok = text.lower() in ("true", "false")
        text = text.lower()
    elif kind == "integer":
        ok = re.fullmatch(r"[+-]?\d+", text) is not None
    else:
        try:
            ok = math.isfinite(float(text))
        except ValueError:
            ok = False
    return f" (TOML: {text}, without quotes)" if ok else ""


def _num(bound: float) -> str:
    # 50000000, not 5e+07; 0.001, not 0.0010000.
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def _bounds(value: float, gt: float | None, ge: float | None, le: float | None) -> str | None:
    if gt is not None and not value > gt:
        return f"should be greater than {_num(gt)}, not {_num(value)}"
    if ge is not None and not value >= ge:
        return f"should be greater than or equal to {_num(ge)}, not {_num(value)}"
    if le is not None and not value <= le:
        return f"should be less than or equal to {_num(le)}, not {_num(value)}"
    return None


class Table:
    """One TOML table being read; the values that passed end up in ``values``."""

    def __init__(self, data: Mapping[str, Any], where: str, problems: Problems) -> None:
        self._data = data
        self.where = where
        self.problems = problems
        self.values: dict[str, Any] = {}
        self._known: set[str] = set()
        self._problems_before = len(problems)

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def problem(self, name: str, message: str) -> None:
        self.problems.add(self.key(name), message)

    @property
    def clean(self) -> bool:
        """No problem found in this table (or below it) so far."""
        return len(self.problems) == self._problems_before

    def _read(
        self, name: str, nullable: bool, check: Callable[[Any], tuple[Any, str | None]]
    ) -> None:
        self._known.add(name)
        value = self._data.get(name, _MISSING)
        if value is _MISSING:
            return
        if value is None:
            if nullable:
                self.values[name] = None
            else:
                self.problem(name, "is required here (not empty)")
            return
        result, error = check(value)
        if error is None:
            self.values[name] = result
        else:
            self.problem(name, error)

    def boolean(self, name: str) -> None:
        def check(value: Any) -> tuple[Any, str | None]:
            if isinstance(value, bool):
                return value, None
            return None, f"should be true or false, not {_shown(value)}{_quoted(value, 'boolean')}"

        self._read(name, False, check)

    def integer(self, name: str, *, ge: int | None = None, le: int | None = None) -> None:
        def check(value: Any) -> tuple[Any, str | None]:
            if isinstance(value, bool) or not isinstance(value, int):
                return (
                    None,
                    f"should be a whole number, not {_shown(value)}{_quoted(value, 'integer')}",
                )
            return value, _bounds(value, None, ge, le)

        self._read(name, False, check)

    def number(
        self,
        name: str,
        *,
        gt: float | None = None,
        ge: float | None = None,
        le: float | None = None,
        nullable: bool = False,
    ) -> None:
        """A finite number (a whole one is taken too); no config value needs inf or nan."""

        def check(value: Any) -> tuple[Any, str | None]:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None, f"should be a number, not {_shown(value)}{_quoted(value, 'number')}"
            if not math.isfinite(value):
                return None, f"should be a finite number, not {value}"
            return float(value), _bounds(value, gt, ge, le)

        self._read(name, nullable, check)

    def text(
        self,
        name: str,
        *,
        min_length: int = 0,
        max_length: int | None = None,
        pattern: re.Pattern[str] | None = None,
        pattern_means: str = "",
        choices: tuple[str, ...] = (),
        nullable: bool = False,
    ) -> None:
        def check(value: Any) -> tuple[Any, str | None]:
            if not isinstance(value, str):
                return None, f"should be a string, not {_shown(value)}"
            if len(value) < min_length:
                return (
                    None,
                    f"should have at least {min_length} characters"
                    if min_length > 1
                    else "should not be empty",
                )
            if max_length is not None and len(value) > max_length:
                return None, f"should have at most {max_length} characters"
            if pattern is not None and not pattern.fullmatch(value):
                return None, f"should be {pattern_means}, not {_shown(value)}"
            if choices and value not in choices:
                allowed = ", ".join(repr(c) for c in choices)
                return None, f"should be one of {allowed}, not {_shown(value)}"
            return value, None

        self._read(name, nullable, check)

    def path(self, name: str, *, nullable: bool = False) -> None:
        def check(value: Any) -> tuple[Any, str | None]:
            if isinstance(value, PathLike):
                value = str(value)
            if not isinstance(value, str) or not value:
                return None, f"should be a path, not {_shown(value)}"
            return Path(value), None

        self._read(name, nullable, check)

    def texts(self, name: str, convert: Callable[[list[str]], list[str]]) -> None:
        """A list of strings, as a tuple, through ``convert`` (its ValueError is the problem)."""

        def check(value: Any) -> tuple[Any, str | None]:
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                return None, f"should be a list of strings, not {_shown(value)}"
            try:
                return tuple(convert(list(value))), None
            except ValueError as err:
                return None, str(err)

        self._read(name, False, check)

    def table(self, name: str) -> Table:
        """The sub-table ``[name]`` (empty when absent); read it, then ``finish`` it."""
        self._known.add(name)
        value = self._data.get(name, _MISSING)
        if value is _MISSING:
            value = {}
        elif not isinstance(value, Mapping):
            self.problem(name, f"should be a table, not {_shown(value)}")
            value = {}
        return Table(value, self.key(name), self.problems)

    def tables(self, name: str, *, min_length: int, max_length: int) -> list[Table] | None:
        """The array of tables ``[[name]]``, or None when absent or not one."""
        self._known.add(name)
        value = self._data.get(name, _MISSING)
        if value is _MISSING:
            return None
        if not isinstance(value, list | tuple):
            self.problem(name, f"should be an array of tables ([[{name}]]), not {_shown(value)}")
            return None
        if not min_length <= len(value) <= max_length:
            self.problem(
                name, f"should have {min_length} to {max_length} entries, not {len(value)}"
            )
            return None
        result = []
        for index, item in enumerate(value):
            where = f"{self.key(name)}[{index}]"
            if not isinstance(item, Mapping):
                self.problems.add(where, f"should be a table, not {_shown(item)}")
                item = {}
            result.append(Table(item, where, self.problems))
        return result

    def finish(self, hint: Callable[[str], str | None] | None = None) -> dict[str, Any]:
        """Refuse every key no reader asked for (a typo must fail loudly); the values read.

        ``hint`` may say, for an unknown key, what to write instead, where the closest
        known key would mislead.
        """
        for name in self._data:
            if name not in self._known:
                said = hint(str(name)) if hint is not None else None
                self.problem(str(name), said or _unknown(str(name), self._known))
        return self.values


def _unknown(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    guess = f"did you mean {close[0]!r}? " if close else "a typo? "
    return f"unknown key ({guess}deploy/daemon.example.toml lists them)"
