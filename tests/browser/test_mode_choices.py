"""The current page offers only the modes the fermenter shown can run.

A fermenter with a heat belt alone (daemon.toml ``[thermostat] cooler = ""``) cannot cool:
its thermostat's mode and its profile's "Control with" offer Off and Heat (and the
profile's "The current mode"), not Cool, which the daemon would refuse. The page reads
this from the device's thermostat (``heater``/``cooler``) in ``GET /api/devices``, and
choosing another fermenter (here the package's stack, with both relays) brings its modes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import browser_missing

if reason := browser_missing():
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Page, expect

from tests.support.daemon import daemon_process

from .conftest import SIM_ARGS, Stack, beside_the_stack, get_json

HEAT_BELT = (
    '[[probes]]\nid = "beer"\nname = "Beer"\nsimulated = "beer"\n'
    '[[probes]]\nid = "fridge"\nname = "Fridge"\nsimulated = "air"\n'
    '[[relays]]\nid = "heater"\nname = "Heat belt"\npin = 17\n'
    '[thermostat]\ncooler = ""\n'
    "[simulation]\nprobe_conversion_s = 0.01\n"
)
ALL_MODES = ["Off", "Heat", "Cool", "Heat and cool"]


@pytest.fixture(scope="module")
def two_fermenters(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, str]]:
    """A web service linked to the stack's daemon and a heat-belt-only one: (port, its id)."""
    tmp = tmp_path_factory.mktemp("belt")
    config = tmp / "daemon.toml"
    config.write_text(HEAT_BELT)
    with (
        daemon_process(Path(tmp / "daemon"), *SIM_ARGS, "--config", str(config)) as belt,
        beside_the_stack(stack, tmp, belt.port) as (port, belt_id),
    ):
        yield port, belt_id


def test_a_heat_belt_alone_offers_off_and_heat(
    page: Page, stack: Stack, two_fermenters: tuple[int, str]
) -> None:
    port, belt = two_fermenters
    # What the page reads: the device's thermostat says it has a heater and no cooler.
    thermostat = get_json(f"http://127.0.0.1:{port}/api/devices/{belt}")["device"]["thermostat"]
    assert (thermostat["heater"], thermostat["cooler"]) == ("heater", None)

    page.goto(f"http://127.0.0.1:{port}/?device={belt}")
    page.wait_for_selector("body[data-ready]")
    expect(page.locator("#mode-select option")).to_have_text(["Off", "Heat"])
    expect(page.locator("#profile-mode option")).to_have_text(
        [re.compile(r"^The current mode"), "Heat"]
    )

    # The fermenter with both relays: all four again, and back to two for the belt.
    page.get_by_label("Fermenter").select_option(stack.device_id)
    expect(page.locator("#mode-select option")).to_have_text(ALL_MODES)
    expect(page.locator("#profile-mode option")).to_have_text(
        [re.compile(r"^The current mode"), "Heat and cool", "Heat", "Cool"]
    )
    page.get_by_label("Fermenter").select_option(belt)
    expect(page.locator("#mode-select option")).to_have_text(["Off", "Heat"])
    expect(page.locator("#profile-mode option")).to_have_text(
        [re.compile(r"^The current mode"), "Heat"]
    )
    page.goto("about:blank")  # before this service stops under the page
