"""quality_scale.yaml and the manifest agree: no tier is claimed while a rule is todo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.util.yaml import load_yaml_dict

import custom_components.beerpi

assert custom_components.beerpi

PACKAGE = Path(custom_components.beerpi.__file__).parent
TIERS = ("bronze", "silver", "gold", "platinum")


def _rules() -> dict[str, dict[str, Any]]:
    data = load_yaml_dict(str(PACKAGE / "quality_scale.yaml"))
    return {
        name: value if isinstance(value, dict) else {"status": value}
        for name, value in data["rules"].items()
    }


def test_only_dependency_transparency_is_open() -> None:
    """Everything up to Platinum is met but the vendored client (a PyPI package is not)."""
    rules = _rules()
    todo = {name for name, rule in rules.items() if rule["status"] == "todo"}
    assert todo == {"dependency-transparency"}
    assert "vendored" in rules["dependency-transparency"]["comment"]
    for name, rule in rules.items():
        if rule["status"] == "exempt":
            assert rule.get("comment"), f"{name} is exempt without a reason"


def test_manifest_claims_no_tier_while_a_rule_is_open() -> None:
    manifest = json.loads((PACKAGE / "manifest.json").read_text())
    open_rules = [name for name, rule in _rules().items() if rule["status"] == "todo"]
    if open_rules:
        assert manifest.get("quality_scale") not in TIERS


def test_manifest_names_the_client_libraries_loggers() -> None:
    """Settings → Logs → "Enable debug logging" turns on socket.io's own logs too."""
    manifest = json.loads((PACKAGE / "manifest.json").read_text())
    assert manifest["loggers"] == ["socketio", "engineio"]
