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


def _modules(folder: Path) -> set[str]:
    return {path.name for path in folder.glob("*.py")}


def test_same_modules() -> None:
    assert _modules(VENDORED) == _modules(SOURCE), "run make vendor"


@pytest.mark.parametrize("name", sorted(_modules(SOURCE)))
def test_module_is_verbatim(name: str) -> None:
    vendored = VENDORED / name
    assert vendored.is_file(), f"{vendored} is missing: run make vendor"
    assert vendored.read_bytes() == (SOURCE / name).read_bytes(), (
        f"{vendored} differs from beerpi_protocol/{name}: run make vendor"
    )
