"""Alerts in the running service: a real simulated daemon's fault reaches a loopback
notification endpoint; the test button's API; the [alerts] config's errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.daemon import connected, running_daemon, sim_config
from tests.web.service import API_TOKEN, dial_in_config, running_service, wait_until, web_config
from web_extras.config import ConfigError, load_config

from .support import Inbox, notification_endpoint

ROOT = Path(__file__).resolve().parents[2]
HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}


def alerts(inbox: Inbox, **extra: Any) -> dict[str, Any]:
    return {"targets": {"phone": inbox.url("phone"), "mail": inbox.url("mail")}, **extra}


async def test_a_simulated_probe_fault_raised_and_cleared_reaches_the_phone(
    tmp_path: Path,
) -> None:
    fast = {"sampling.read_interval_s": 0.1}
    async with (
        notification_endpoint() as inbox,
        running_daemon(sim_config(tmp_path / "daemon", **fast)) as daemon,
    ):
        config = dial_in_config(
            tmp_path / "web",
            daemon.port,
            alerts=alerts(inbox, rules=[{"kind": "fault", "notify": ["phone"]}]),
        )
        async with running_service(config) as service:
            device = daemon.daemon.device.id
            await wait_until(lambda: (r := service.hub.find(device)) and r.state is not None)
            async with connected(daemon) as client:
                await client.simulate(probe="fridge", fault="disconnected")
                await inbox.wait_for(1)
                await client.simulate(probe="fridge", clear=True)
                await inbox.wait_for(2)
    name = daemon.daemon.device.name
    fridge = next(p.name for p in daemon.daemon.device.probes if p.id == "fridge")
    assert inbox.titles("phone") == [
        f"BeerPi: ⚠ {name}: fault on {fridge}",
        f"BeerPi: ✓ {name}: {fridge} fault cleared",
    ]
    assert "(disconnected)" in inbox.messages()[0]["message"]
    assert inbox.titles("mail") == []


async def test_the_test_button_api(tmp_path: Path) -> None:
    async with notification_endpoint() as inbox:
        config = web_config(
            tmp_path / "web",
            api_token=API_TOKEN,
            alerts=alerts(inbox, rules=[{"kind": "offline", "for_min": 5}]),
        )
        async with running_service(config) as service, aiohttp.ClientSession() as http:
            url = f"{service.url}/api/alerts"
            # Like control: a login or the API token, reads included (no public_read).
            async with http.post(url + "/test") as response:
                assert response.status == 401
            async with http.get(url) as response:
                assert response.status == 401
            async with http.get(url, headers=HEADERS) as response:
                summary = await response.json()
            assert summary["enabled"] is True
            assert summary["targets"] == ["mail", "phone"]
            assert summary["rules"][0]["kind"] == "offline"
            assert inbox.url("phone") not in str(summary)  # target URLs hold secrets
            async with http.post(url + "/test", headers=HEADERS) as response:
                assert (response.status, await response.json()) == (
                    200,
                    {"sent": True, "targets": ["phone", "mail"]},
                )
            assert sorted(inbox.titles()) == ["BeerPi: test notification"] * 2
            async with http.post(url + "/test", headers=HEADERS, json={"target": "mail"}) as r:
                assert r.status == 200
            assert inbox.titles("mail") == ["BeerPi: test notification"] * 2
            async with http.post(url + "/test", headers=HEADERS, json={"target": "x"}) as r:
                assert (r.status, (await r.json())["error"]) == (404, "unknown_target")
            async with http.post(url + "/test", headers=HEADERS, json={"target": 5}) as r:
                assert (r.status, (await r.json())["error"]) == (400, "invalid_argument")
            inbox.fail = True
            async with http.post(url + "/test", headers=HEADERS, json={"target": "phone"}) as r:
                assert (r.status, (await r.json())["error"]) == (502, "notify_failed")
            # Three in a minute were sent or tried: the fourth is refused.
            async with http.post(url + "/test", headers=HEADERS) as r:
                assert (r.status, (await r.json())["error"]) == (429, "rate_limited")


async def test_without_targets_the_button_says_so(tmp_path: Path) -> None:
    async with (
        running_service(web_config(tmp_path / "web")) as service,
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"{service.url}/api/alerts") as response:
            assert (await response.json())["enabled"] is False
        async with http.post(f"{service.url}/api/alerts/test") as response:
            assert (response.status, (await response.json())["error"]) == (409, "no_targets")


def config_error(tmp_path: Path, toml: str) -> str:
    path = tmp_path / "web.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


SECRET = "tk_0123456789abcdef"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            f'[alerts.targets]\nphone = "nosuchservice://{SECRET}@host"\n',
            "alerts.targets: target 'phone': Apprise does not understand its URL",
        ),
        (
            '[[alerts.rules]]\nkind = "fault"\n',
            "alerts: alert rules need at least one target in [alerts.targets]",
        ),
        (
            f'[alerts.targets]\nphone = "ntfy://{SECRET}"\n[[alerts.rules]]\nkind = "sparkle"\n',
            "alerts.rules[0]: Input tag 'sparkle' found using 'kind' does not match",
        ),
        (
            f'[alerts.targets]\nphone = "ntfy://{SECRET}"\n'
            '[[alerts.rules]]\nkind = "out_of_range"\nfor_min = 0\n',
            "alerts.rules[0].out_of_range.for_min: Input should be greater than 0, not 0",
        ),
        (
            f'[alerts.targets]\nphone = "ntfy://{SECRET}"\n'
            '[[alerts.rules]]\nkind = "out_of_range"\ntolerance_c = 1\nmax_c = 20\n',
            "give either tolerance_c or min_c/max_c, not both",
        ),
        (
            f'[alerts.targets]\nphone = "ntfy://{SECRET}"\n'
            '[[alerts.rules]]\nkind = "offline"\nnotify = ["pager"]\n',
            "rules[0] (offline) notifies unknown target(s) pager; targets are phone",
        ),
        (
            f'[alerts.targets]\nphone = "ntfy://{SECRET}"\n'
            '[[alerts.rules]]\nkind = "fault"\ncleard = false\n',
            "alerts.rules[0].fault.cleard: unknown key (did you mean 'cleared'?",
        ),
    ],
)
def test_alert_config_errors_are_clear_and_keep_secrets(
    tmp_path: Path, toml: str, expected: str
) -> None:
    message = config_error(tmp_path, toml)
    assert expected in message
    assert SECRET not in message


def test_targets_from_a_file_of_their_own(tmp_path: Path) -> None:
    """Apprise URLs are secrets: they may live in a 0600 file like the tokens."""
    targets = tmp_path / "alerts.toml"
    targets.write_text(f'pager = "ntfy://{SECRET}"\n')
    targets.chmod(0o600)
    path = tmp_path / "web.toml"
    path.write_text(
        f'[alerts]\ntargets_file = "{targets}"\n[alerts.targets]\nphone = "ntfy://other"\n'
        '[[alerts.rules]]\nkind = "fault"\nnotify = ["pager"]\n'
    )
    config = load_config(path)
    assert sorted(config.alerts.targets) == ["pager", "phone"]
    assert config.alerts.targets["pager"] == f"ntfy://{SECRET}"

    # Errors name the file and the target, never the URL.
    targets.write_text(f'phone = "ntfy://{SECRET}"\n')
    message = config_error(tmp_path, path.read_text())
    assert f"phone in both [alerts.targets] and {targets}" in message
    assert SECRET not in message
    targets.write_text(f'pager = "nosuchservice://{SECRET}@host"\n')
    message = config_error(tmp_path, path.read_text())
    assert "target 'pager': Apprise does not understand its URL" in message
    assert SECRET not in message
    targets.write_text(f"pager = ntfy://{SECRET}\n")  # not TOML
    message = config_error(tmp_path, path.read_text())
    assert f"{targets} (alerts.targets_file) is not valid TOML" in message
    assert SECRET not in message
    targets.unlink()
    assert "cannot read alerts.targets_file" in config_error(tmp_path, path.read_text())


def test_the_example_config_with_alerts_loads(tmp_path: Path) -> None:
    # The example names its secret files (issue 14); here they are real files.
    example = (ROOT / "deploy" / "web.example.toml").read_text()
    for name in ("web.password", "daemon.token"):
        secret = tmp_path / name
        secret.write_text("a3f9c1d27b4e8f6a0c5d9e2b7f1a4c8d\n")
        example = example.replace(f"/etc/beerpi/{name}", str(secret))
    path = tmp_path / "web.toml"
    path.write_text(example)
    config = load_config(path)
    assert config.alerts.enabled
    assert {rule.kind for rule in config.alerts.rules} == {
        "fault",
        "out_of_range",
        "offline",
        "profile_step",
        "gravity_stable",
    }


def test_the_cli_refuses_a_bad_alert_config(tmp_path: Path) -> None:
    path = tmp_path / "web.toml"
    path.write_text(f'[alerts.targets]\nphone = "nosuchservice://{SECRET}@host"\n')
    result = subprocess.run(
        [sys.executable, "-m", "web_extras", "--config", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "target 'phone': Apprise does not understand its URL" in result.stderr
    assert SECRET not in result.stderr + result.stdout
