"""README.md's Development section against the repository: its make targets exist and
its layout names every top-level package and only paths that exist."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def development() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("\n## Development\n", 1)[1].split("\n## ", 1)[0]


def make_targets() -> set[str]:
    sources = [ROOT / "Makefile", *sorted((ROOT / "mk").glob("*.mk"))]
    found: set[str] = set()
    for source in sources:
        for line in source.read_text(encoding="utf-8").splitlines():
            match = re.match(r"([A-Za-z][\w-]*)\s*:(?!=)", line)
            if match:
                found.add(match.group(1))
    return found


def test_every_command_in_the_table_is_a_make_target() -> None:
    rows = [line for line in development().splitlines() if line.startswith("| `make ")]
    named = {re.match(r"\| `make ([\w-]+)`", row).group(1) for row in rows}  # type: ignore[union-attr]
    assert named, "the table lists make commands"
    assert named <= make_targets()


def test_the_layout_names_paths_that_exist_and_every_top_level_package() -> None:
    layout = development().split("Layout:", 1)[1]
    paths = re.findall(r"`([\w./-]+)`", layout)
    assert [p for p in paths if not (ROOT / p).exists()] == []
    tracked = subprocess.run(
        ["git", "ls-files", "*/__init__.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    packages = {name.split("/")[0] for name in tracked if name.count("/") == 1}
    named = {p.rstrip("/").split("/")[0] for p in paths}
    assert packages - named == set()
