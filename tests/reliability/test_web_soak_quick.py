"""``python -m scripts.soak --quick``: the load soak in miniature (10 daemons, 20 browsers, 8 s).

The full run (100 daemons, 500 browsers, 2 minutes) is ``make soak``; ``--redis``
runs it on two service processes sharing Redis (``test_web_soak_redis_quick``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_quick_soak_loses_nothing_and_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scripts.soak", "--quick"],
        capture_output=True,
        text=True,
        timeout=150,  # a loaded machine: 60 s seen at load 10
        check=False,
        cwd=ROOT,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    for figure in ("readings taken", "lost / stored twice", "push latency", "service RSS"):
        assert figure in done.stdout
    assert re.search(r"lost / stored twice or unknown\s+0 / 0\n", done.stdout)
    assert_split_latency(done.stdout)


def assert_split_latency(out: str) -> None:
    """The connect storm and the steady state are reported apart, each with its count."""
    assert re.search(r"connect storm p50 / p99 / max\s+(\d+|nan) / .* ms \(\d+ pushes\)\n", out)
    steady = re.search(r"steady state p50 / p99 / max\s+(\d+) / (\d+) / (\d+) ms \((\d+)", out)
    assert steady is not None, out
    p50, p99, top, count = map(int, steady.groups())
    assert count > 0
    assert p50 <= p99 <= top
    # ... and the steady state slice by slice, each with the machine's load beside it.
    slices = re.search(r"steady p99 by 4 slices \(1-min load\)\s+(.*) ms\n", out)
    assert slices is not None, out
    parts = slices.group(1).split(" / ")
    assert len(parts) == 4
    assert any(re.fullmatch(r"\d+ \(\d+\.\d\)", part) for part in parts), parts
    # The goal is printed beside the figure it judges, with the same p99.
    goal = re.search(r"goal\s+steady p99 < 50 ms: (met|missed) \((\d+) ms\)", out)
    assert goal is not None, out
    assert int(goal.group(2)) == p99
    assert (goal.group(1) == "met") == (p99 < 50)
    assert re.search(r"service( \d)? CPU mean / max \(steady\)\s+\d+ / \d+ % of a core", out)
    assert re.search(r"load average at start / storm / end\s+[\d.]+ ", out)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs Debian's redis-server")
def test_quick_soak_on_two_processes_sharing_redis() -> None:
    """Browsers and daemons spread over two services: pushes cross through Redis, none lost."""
    done = subprocess.run(
        [sys.executable, "-m", "scripts.soak", "--quick", "--redis"],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
        cwd=ROOT,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"service processes\s+2, sharing one Redis\n", done.stdout)
    assert re.search(r"lost / stored twice or unknown\s+0 / 0\n", done.stdout)
    assert re.search(r"browsers on /live connected / at end\s+20 / 20\n", done.stdout)
    for n in (1, 2):
        assert re.search(rf"service {n} RSS start / peak / end\s+\d+ / \d+ / \d+ MiB", done.stdout)
        assert f"service {n} CPU mean / max (steady)" in done.stdout
    assert_split_latency(done.stdout)
