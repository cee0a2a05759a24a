"""The config's strict readers: every problem on its own line, named by key; nothing unread."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from pi_daemon.config import _SECTIONS, ConfigError, load_config

SIM = {"simulate": True, "server.token": "t"}


def _problems(tmp_path: Path, toml: str) -> list[str]:
    path = tmp_path / "daemon.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    first, *lines = str(caught.value).splitlines()
    assert first == f"invalid configuration ({path}):"
    return [line.strip() for line in lines]


def test_every_problem_is_listed_once_with_its_key(tmp_path: Path) -> None:
    lines = _problems(
        tmp_path,
        "simulate = true\ncolour = 'red'\n"
        "[server]\nport = 'x'\nallowed_origins = ['*']\n"
        "[[probes]]\nname = 'no id'\n[[probes]]\nid = 'beer'\nsimulated = 'wort'\n"
        "[[relays]]\nid = 'heater'\n"
        "[thermostat]\ninitial_mode = 'boil'\nhigh_cutoff = inf\n"
        "[device]\nname = ''\n",
    )
    keys = sorted(line.split(":")[0] for line in lines)
    assert keys == sorted(
        [
            "colour",
            "server.port",
            "server.allowed_origins",
            "probes[0].id",
            "probes[1].simulated",
            "relays[0].pin",
            "thermostat.initial_mode",
            "thermostat.high_cutoff",
            "device.name",
        ]
    )
    assert "colour: unknown key" in lines[-1]


def test_a_typo_gets_the_key_it_was_meant_to_be(tmp_path: Path) -> None:
    lines = _problems(
        tmp_path,
        "simulate = true\n[server]\nprot = 8765\n[thermostt]\nprobe = 'beer'\n"
        "[[relays]]\nid = 'heater'\npin = 17\nactive_hgih = false\n",
    )
    assert lines == [
        "server.prot: unknown key (did you mean 'port'? deploy/daemon.example.toml lists them)",
        "relays[0].active_hgih: unknown key (did you mean 'active_high'? "
        "deploy/daemon.example.toml lists them)",
        "thermostt: unknown key (did you mean 'thermostat'? deploy/daemon.example.toml lists them)",
    ]
    # Nothing close: no guess.
    lines = _problems(tmp_path, "simulate = true\n[server]\nfrobnicate = 1\n")
    assert lines == [
        "server.frobnicate: unknown key (a typo? deploy/daemon.example.toml lists them)"
    ]


def test_a_value_out_of_range_is_shown_and_an_option_is_told_from_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "daemon.toml"
    path.write_text("simulate = true\n[server]\nport = 8765\n[storage]\nrecord_interval_s = -5\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {"server.port": 70000, "server.token": "t"})
    assert str(caught.value).splitlines()[1:] == [
        # The file says 8765: the brewer must not look for 70000 there.
        "  server.port (from the command line): should be less than or equal to 65535, not 70000",
        "  storage.record_interval_s: should be greater than 0, not -5",
    ]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("server.port", True, "should be a whole number, not True"),
        ("server.port", 8765.5, "should be a whole number"),
        ("storage.record_interval_s", "60", "should be a number, not '60'"),
        ("storage.record_interval_s", float("inf"), "should be a finite number"),
        ("storage.record_interval_s", 0, "should be greater than 0"),
        ("storage.outbox_max_rows", 10**9, "should be less than or equal to 50000000"),
        ("camera.enabled", "yes", "should be true or false"),
        # Quoted in TOML, a value is text: say how to write it.
        ("camera.enabled", "false", "not 'false' (TOML: false, without quotes)"),
        ("server.port", "8765", "not '8765' (TOML: 8765, without quotes)"),
        # ...only when the value unquoted is one the key takes: these would be refused again.
        ("camera.enabled", "1", "should be true or false, not '1'\n"),
        ("server.port", "87.5", "should be a whole number, not '87.5'\n"),
        ("storage.record_interval_s", "true", "should be a number, not 'true'\n"),
        ("storage.record_interval_s", "nan", "should be a number, not 'nan'\n"),
        # Named otherwise, the polarity must not be "corrected" to active_high = true.
        (
            "relays",
            [{"id": "heater", "pin": 17, "active_low": True}],
            "relays[0].active_low: unknown key: the polarity is active_high; for a board that"
            " switches on when the pin is low (most cheap ones), write active_high = false",
        ),
        ("storage.data_dir", "", "should be a path"),
        ("server.allowed_origins", "https://a.example", "should be a list of strings"),
        ("server.host", None, "is required here"),
        ("thermostat.heater", "Heater 1", "should be a lower-case name"),
        ("device.id", "a/b", "should be up to 64 of"),
        ("probes", [], "should have 1 to 32 entries"),
        ("relays", [3], "should be a table"),
        (
            "probes",
            [
                {"id": "beer", "sensor_id": "28-0316a2795aff"},
                {"id": "beer", "sensor_id": "28-0416a27f11ff"},
            ],
            "probes[1].id: duplicate id 'beer'",
        ),
        ("server", 3, "should be a table"),
        # It ran, retrying "cannot reach notaurl (ws:///socket.io/...)" for ever.
        ("dialout.server", "notaurl", "should be the web service's URL, like https://"),
        ("dialout.server", "beerpi.example.com:8080", "(http, https, ws or wss, and a host)"),
        # One urlsplit refuses itself: it stopped the start with a ValueError traceback.
        ("dialout.server", "https://[beerpi.local", "should be the web service's URL"),
        # It ran, the dial-out retrying it as unreachable for ever.
        ("dialout.server", "https://beerpi.local:99999", "should be the web service's URL"),
        ("server.tls_cert", "/etc/cert.pem", "tls_cert and tls_key must be given together"),
    ],
)
def test_a_wrong_value_is_refused_by_key(key: str, value: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, {**SIM, key: value})
    message = str(caught.value)
    assert message.startswith("invalid configuration (command line):\n")
    problem = message.splitlines()[1].strip()
    assert problem.startswith(key.split(".")[0]), message
    assert expected in problem + "\n", message


def test_a_whole_number_is_taken_where_a_number_is_asked() -> None:
    config = load_config(None, {**SIM, "storage.record_interval_s": 30})
    assert config.storage.record_interval_s == 30.0
    assert isinstance(config.storage.record_interval_s, float)


def _toml_value(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


@pytest.mark.parametrize("section", sorted(_SECTIONS))
def test_every_field_of_a_section_can_be_set(section: str) -> None:
    # A field the reader forgot would be refused as an unknown key.
    cls = _SECTIONS[section]
    for field in dataclasses.fields(cls):
        default = field.default
        if default is dataclasses.MISSING or default is None or field.name in ("token",):
            continue
        config = load_config(None, {**SIM, f"{section}.{field.name}": _toml_value(default)})
        assert getattr(getattr(config, section), field.name) == default
