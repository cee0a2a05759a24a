"""The integration's vendored protocol must be a verbatim copy of beerpi_protocol.

HACS installs only custom_components/beerpi/, so the integration cannot import
beerpi_protocol; `make vendor` copies it, and this test catches a stale copy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "beerpi_protocol"
VENDORED = ROOT / "custom_components" / "beerpi" / "protocol"
# Used by the daemon and the web service only (mk/ha.mk's NOT_VENDORED).
NOT_VENDORED = {"gravity.py"}


def _modules(folder: Path) -> set[str]:
    return {path.name for path in folder.glob("*.py")}


def test_same_modules() -> None:
    assert _modules(VENDORED) == _modules(SOURCE) - NOT_VENDORED, "run make vendor"


def test_what_is_not_vendored_is_not_imported_by_what_is() -> None:
    for path in VENDORED.glob("*.py"):
        text = path.read_text()
        for name in NOT_VENDORED:
            assert f".{name.removesuffix('.py')} import" not in text, (path.name, name)


@pytest.mark.parametrize("name", sorted(_modules(SOURCE) - NOT_VENDORED))
def test_module_is_verbatim(name: str) -> None:
    vendored = VENDORED / name
    assert vendored.is_file(), f"{vendored} is missing: run make vendor"
    assert vendored.read_bytes() == (SOURCE / name).read_bytes(), (
        f"{vendored} differs from beerpi_protocol/{name}: run make vendor"
    )
