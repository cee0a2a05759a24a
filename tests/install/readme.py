"""The README's shell and Python blocks, read by section, so tests follow what it says."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

_FENCE = re.compile(r"^[ \t]*```(\w*)[ \t]*\n(.*?)^[ \t]*```[ \t]*$", re.M | re.S)


def section(title: str) -> str:
    """The text of the section headed ``## title`` or ``### title``, up to the next heading."""
    text = README.read_text()
    match = re.search(rf"^#{{2,3}} {re.escape(title)}\n(.*?)(?=^#{{1,3}} |\Z)", text, re.M | re.S)
    if match is None:
        raise AssertionError(f"the README has no section {title!r}")
    return match.group(1)


def blocks(text: str, language: str) -> list[str]:
    """The fenced code blocks of one language, indentation removed (list items indent them)."""
    found = []
    for lang, body in _FENCE.findall(text):
        if lang == language:
            lines = body.splitlines()
            indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
            found.append("\n".join(x[indent:] for x in lines) + "\n")
    return found


def commands(text: str) -> list[list[str]]:
    """Every command line of the section's ``sh`` blocks, split as the shell would."""
    lines = []
    for block in blocks(text, "sh"):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words:
                lines.append(words)
    return lines


def command(text: str, *start: str) -> list[str]:
    """The one command line that begins with ``start`` (``sudo`` dropped)."""
    found = []
    for words in commands(text):
        if words[0] == "sudo":
            words = words[1:]
        if tuple(words[: len(start)]) == start:
            found.append(words)
    if len(found) != 1:
        raise AssertionError(f"the README has {len(found)} commands starting {start}, not one")
    return found[0]


def line(text: str, needle: str) -> str:
    """The one raw ``sh`` line that contains ``needle``, comment and all."""
    found = [x for b in blocks(text, "sh") for x in b.splitlines() if needle in x]
    if len(found) != 1:
        raise AssertionError(f"the README has {len(found)} lines with {needle!r}, not one")
    return found[0]
