"""The one text table of benchmark rows (metric, value, goal, baseline, ratio, result).

Each benchmark prints its own rows with it; ``bench.run_all`` prints all of them with
a leading benchmark column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

ROW_HEADERS = ("metric", "value", "goal", "baseline", "vs baseline", "result")


def fmt_value(value: float, unit: str) -> str:
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: ""}[passed]


def row_cells(row: dict[str, Any]) -> tuple[str, ...]:
    """A row as the table's cells, in ``ROW_HEADERS`` order."""
    return (
        row["metric"],
        fmt_value(row["value"], row["unit"]),
        row["goal"] or "",
        row["baseline"] or "",
        row["ratio"] or "",
        verdict(row["passed"]),
    )


def text_table(headers: Sequence[str], cells: Sequence[tuple[str, ...]]) -> str:
    """Columns as wide as their widest cell; the value column right-aligned."""
    widths = [max(len(c[i]) for c in [tuple(headers), *cells]) for i in range(len(headers))]
    value = list(headers).index("value")

    def line(c: Sequence[str]) -> str:
        parts = [c[i].rjust(w) if i == value else c[i].ljust(w) for i, w in enumerate(widths)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, cells)])


def table(rows: Sequence[dict[str, Any]]) -> str:
    """One benchmark's rows."""
    return text_table(ROW_HEADERS, [row_cells(row) for row in rows])


def row(
    metric: str,
    value: float,
    unit: str,
    *,
    below: float | None = None,
    baseline: str | None = None,
    ratio: str | None = None,
) -> dict[str, Any]:
    """One row; with ``below`` the goal is ``value < below`` (in ``unit``) and judged here."""
    return {
        "metric": metric,
        "value": value,
        "unit": unit,
        "goal": None if below is None else f"< {below:g} {unit}",
        "passed": None if below is None else value < below,
        "baseline": baseline,
        "ratio": ratio,
    }
