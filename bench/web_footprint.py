"""The web service's memory with 100 daemons, against itself idle in the same run.

    python -m bench.web_footprint [--small]

Runs the load soak (``python -m scripts.soak``) in a shorter form: one real ``beerpi-web``
(SQLite) holding 100 simulated daemons dialled out to it (a reading per probe
every 2 s) and 20 browsers on ``/live``, for 40 s. The baseline is the same
service's RSS just after it started, before any daemon connected. Writes
bench/results/web_footprint.json; exits non-zero if the soak broke (a reading
lost, a daemon offline) rather than printing a number from a broken run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ._daemon import ROOT, write_result

FULL = {"daemons": 100, "browsers": 20, "seconds": 40.0}
SMALL = {"daemons": 5, "browsers": 5, "seconds": 6.0}


def run_soak(sizes: dict[str, float], out: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "scripts.soak",
        f"--daemons={int(sizes['daemons'])}",
        f"--browsers={int(sizes['browsers'])}",
        f"--seconds={sizes['seconds']:g}",
        f"--result-json={out}",
    ]
    done = subprocess.run(command, cwd=ROOT, timeout=sizes["seconds"] + 200, check=False)
    if not out.exists():
        raise RuntimeError(f"the soak wrote no figures (exit code {done.returncode})")
    figures: dict[str, Any] = json.loads(out.read_text())
    if done.returncode != 0 or not figures.get("ok"):
        raise RuntimeError(f"the soak failed its own checks: {figures}")
    return figures


def metrics(figures: dict[str, Any]) -> list[dict[str, Any]]:
    daemons = figures["daemons"]
    idle, peak = figures["rss_start_mib"], figures["rss_peak_mib"]
    return [
        {
            "metric": f"web service RSS peak, {daemons} daemons + {figures['browsers']} browsers",
            "value": round(peak, 1),
            "unit": "MiB",
            "goal": None,
            "passed": None,
            "baseline": f"same service idle: {idle:.0f} MiB",
            "ratio": f"+{peak - idle:.0f} MiB ({(peak - idle) / daemons:.2f} MiB per daemon)",
        },
        {
            "metric": f"web service readings lost, {daemons} daemons",
            "value": figures["lost"] + figures["extra"],
            "unit": "",
            "goal": "0",
            "passed": figures["lost"] == 0 and figures["extra"] == 0,
            "baseline": f"{figures['taken']} taken, {figures['stored']} stored",
            "ratio": None,
        },
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="5 daemons, a few seconds")
    args = parser.parse_args(argv)
    sizes = SMALL if args.small else FULL
    with tempfile.TemporaryDirectory(prefix="beerpi-webfp-") as tmp:
        try:
            figures = run_soak(sizes, Path(tmp) / "figures.json")
        except (RuntimeError, subprocess.SubprocessError) as err:
            print(f"web_footprint: FAILED: {err}", file=sys.stderr)
            return 1
    rows = metrics(figures)
    for row in rows:
        print(f"{row['metric']:<58} {row['value']:>8} {row['unit']:<4} {row['baseline']}")
    print(f"wrote {write_result('web_footprint', {'figures': figures, 'metrics': rows})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
