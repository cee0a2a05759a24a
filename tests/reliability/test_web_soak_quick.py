"""``scripts/soak.py --quick``: the load soak in miniature (10 daemons, 20 browsers, 8 s).

The full run (100 daemons, 200 browsers, 2 minutes) is ``make soak``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "soak.py"


def test_quick_soak_loses_nothing_and_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    for figure in ("readings taken", "lost / stored twice", "push latency", "service RSS"):
        assert figure in done.stdout
    assert re.search(r"lost / stored twice or unknown\s+0 / 0\n", done.stdout)
