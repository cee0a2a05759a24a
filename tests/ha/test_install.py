"""What docs/home-assistant.md says about installing through HACS holds: the oldest Home
Assistant it names is the one hacs.json declares and the one `make test-ha-old` runs,
HACS finds the integration by the name the guide gives, and the manifest carries what
HACS needs to install it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .daemon import ROOT

GUIDE = ROOT / "docs" / "home-assistant.md"
INTEGRATION = ROOT / "custom_components" / "beerpi"


def _json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_oldest_home_assistant_is_the_one_declared_and_tested() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    [claimed] = re.findall(r"Requires Home Assistant (\S+) or newer", guide)
    assert _json(ROOT / "hacs.json")["homeassistant"] == claimed
    oldest_lock = (ROOT / "requirements" / "ha-oldest.txt").read_text(encoding="utf-8")
    assert f"\nhomeassistant=={claimed}\n" in oldest_lock


def test_hacs_finds_and_installs_it_as_the_guide_says() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    hacs = _json(ROOT / "hacs.json")
    manifest = _json(INTEGRATION / "manifest.json")
    # "Search HACS for **BeerPi**"; the one integration under custom_components/.
    assert "Search HACS for **BeerPi**" in guide
    assert hacs["name"] == manifest["name"] == "BeerPi"
    assert hacs.get("content_in_root", False) is False
    folders = (ROOT / "custom_components").iterdir()
    assert [p.name for p in folders if p.is_dir() and not p.name.startswith("__")] == ["beerpi"]
    # HACS refuses a custom integration's manifest without these.
    for key in ("domain", "name", "version", "documentation", "issue_tracker", "codeowners"):
        assert manifest.get(key), key
    assert manifest["domain"] == "beerpi"
    # "needs python-socketio 5.x, which Home Assistant installs by itself".
    assert "python-socketio` 5.x" in guide
    assert manifest["requirements"] == ["python-socketio>=5.11,<6"]
    # "advertises _beerpi._tcp.local.": the manifest's zeroconf type starts the discovery.
    assert "`_beerpi._tcp.local.`" in guide
    assert manifest["zeroconf"] == ["_beerpi._tcp.local."]
