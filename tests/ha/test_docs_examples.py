"""The YAML a user copies from docs/home-assistant.md and docs/home-assistant-triggers.md
is what the integration takes: each action example passes its action's schema, each
trigger example the device trigger's validation, and the guide documents every action
the integration registers."""

from __future__ import annotations

import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import parse_yaml

import custom_components.beerpi
from custom_components.beerpi import device_trigger
from custom_components.beerpi.const import DOMAIN
from custom_components.beerpi.coordinator import LinkStatus

from .daemon import ROOT

assert custom_components.beerpi

GUIDE = ROOT / "docs" / "home-assistant.md"
TRIGGERS = ROOT / "docs" / "home-assistant-triggers.md"
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def _blocks(path: Any) -> list[Any]:
    return [parse_yaml(block) for block in YAML_BLOCK.findall(path.read_text("utf-8"))]


def _triggers(block: Any) -> list[dict[str, Any]]:
    """The triggers of a block: a bare ``triggers:`` list or a list of automations."""
    if isinstance(block, dict):
        block = block.get("automation", [block])
    return [trigger for automation in block for trigger in automation.get("triggers", [])]


async def test_every_action_example_passes_its_schema(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    services = hass.services.async_services_for_domain(DOMAIN)
    examples = [b for b in _blocks(GUIDE) if isinstance(b, dict) and "action" in b]
    assert len(examples) >= 5
    for example in examples:
        domain, _, name = example["action"].partition(".")
        assert domain == DOMAIN, example
        schema = services[name].schema
        assert schema is not None
        schema(example["data"])
    # Each registered action has its own section in the guide.
    headed = set(re.findall(r"`beerpi\.(\w+)`", GUIDE.read_text("utf-8")))
    assert set(services) <= headed


async def test_every_trigger_example_is_valid(hass: HomeAssistant) -> None:
    triggers = [t for b in _blocks(TRIGGERS) for t in _triggers(b)]
    assert len(triggers) == 5
    for trigger in triggers:
        config = {("platform" if k == "trigger" else k): v for k, v in trigger.items()}
        assert config["domain"] == DOMAIN
        await device_trigger.async_validate_trigger_config(hass, config)


def test_the_fault_codes_and_link_reasons_listed_are_the_integrations() -> None:
    """The triggers page lists the codes a trigger takes; the guide's troubleshooting the
    reasons the Link sensor gives when off. A code or reason added without its words fails."""
    triggers = TRIGGERS.read_text("utf-8")
    listed = triggers.split("Fault codes: ", 1)[1].split("\n\n", 1)[0]
    assert sorted(set(re.findall(r"`(\w+)`", listed))) == sorted(device_trigger.CODES)
    guide = GUIDE.read_text("utf-8")
    section = guide.split("the Link sensor is off</summary>", 1)[1].split("</details>", 1)[0]
    reasons = set(re.findall(r"^- `(\w+)`(?: / `(\w+)`)?", section, re.MULTILINE))
    named = {name for pair in reasons for name in pair if name}
    assert named == {status.value for status in LinkStatus} - {"connected"}
