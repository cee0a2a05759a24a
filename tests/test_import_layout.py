"""Layout rules read from the source: only tests import tests, and nothing edits sys.path.

Benchmarks and scripts share test helpers through ``beerpi_devtools`` instead, and are
run as modules (``python -m scripts.demo``) so imports resolve from the repository root.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Home Assistant's integration is written for its own Python (3.13+: `type` aliases);
# the Pi's Python 3.11 run cannot parse it, and the newer run checks it.
NEWER_PYTHON_ONLY = ("custom_components",) if sys.version_info < (3, 12) else ()


def tracked_python() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        ROOT / name
        for name in listed
        if (ROOT / name).exists() and Path(name).parts[0] not in NEWER_PYTHON_ONLY
    ]


def imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def touches_sys_path(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "path"
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        ):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "sys"
            and any(alias.name == "path" for alias in node.names)
        ):
            return True
    return False


def test_the_scan_sees_the_whole_tree() -> None:
    files = {path.relative_to(ROOT).as_posix() for path in tracked_python()}
    assert {"scripts/soak.py", "bench/ha_latency.py", "tests/support/daemon.py"} <= files


def test_nothing_outside_tests_imports_from_tests() -> None:
    offenders = []
    for path in tracked_python():
        relative = path.relative_to(ROOT)
        if relative.parts[0] == "tests":
            continue
        tree = ast.parse(path.read_text(), str(relative))
        bad = [m for m in imported_modules(tree) if m == "tests" or m.startswith("tests.")]
        offenders += [f"{relative}: {module}" for module in bad]
    assert offenders == []


def test_no_module_edits_sys_path() -> None:
    offenders = [
        path.relative_to(ROOT).as_posix()
        for path in tracked_python()
        if touches_sys_path(ast.parse(path.read_text(), str(path)))
    ]
    assert offenders == []


def test_the_rules_catch_what_they_forbid() -> None:
    """The checks themselves flag the two patterns scripts/soak.py had before."""
    before = ast.parse(
        "import sys\nsys.path.insert(0, 'x')\nfrom tests.support.daemon import free_port\n"
    )
    assert touches_sys_path(before)
    assert "tests.support.daemon" in imported_modules(before)
    assert not touches_sys_path(ast.parse("import sys\nsys.exit(0)\n"))
