"""A brewer's mistakes in the web service's config and start: one clear line each, nothing lost.

The daemon's counterparts are tests/daemon/test_config_reader.py and
tests/reliability/test_corrupt_start.py; the two read alike.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from beerpi_devtools.harness import free_port
from web_extras import cli
from web_extras.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def _problems(tmp_path: Path, toml: str, overrides: dict[str, object] | None = None) -> list[str]:
    path = tmp_path / "web.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, overrides, environ={})
    first, *lines = str(caught.value).splitlines()
    assert first == f"invalid configuration ({path}):"
    return [line.strip() for line in lines]


def test_a_typo_is_an_unknown_key_with_the_key_it_was_meant_to_be(tmp_path: Path) -> None:
    lines = _problems(
        tmp_path,
        "prot = 8080\n"
        "[[daemons]]\nurl = 'ws://127.0.0.1:8765'\ntoken_fil = '/etc/beerpi/daemon.token'\n"
        "[hydrometers.red-spindel]\ndevice = 'beerpi-1'\ntokn = 'x'\n"
        "[alerts]\nwindow_mn = 30\n"
        "[[alerts.rules]]\nkind = 'out_of_range'\ntolerance_c = 1.0\nfor_mn = 20\n",
    )
    tail = "deploy/web.example.toml lists them)"
    assert sorted(lines) == sorted(
        [
            f"prot: unknown key (did you mean 'port'? {tail}",
            # A list's entries are numbered as the daemon's are: daemons[0], not daemons.0.
            f"daemons[0].token_fil: unknown key (did you mean 'token_file'? {tail}",
            f"hydrometers.red-spindel.tokn: unknown key (did you mean 'token'? {tail}",
            f"alerts.window_mn: unknown key (did you mean 'window_min'? {tail}",
            f"alerts.rules[0].out_of_range.for_mn: unknown key (did you mean 'for_min'? {tail}",
        ]
    )
    assert _problems(tmp_path, "frobnicate = 1\n") == [f"frobnicate: unknown key (a typo? {tail}"]


def test_a_wrong_value_is_shown_unless_it_may_be_a_secret(tmp_path: Path) -> None:
    lines = _problems(
        tmp_path,
        "port = 70000\nmax_browsers = 'many'\nretention_days = -5\n"
        "[[daemons]]\nurl = 'ws://127.0.0.1:8765'\ntoken = 1234567890123456789\n"
        "[alerts.targets]\nphone = 9876543210\n",
    )
    assert sorted(lines) == sorted(
        [
            "port: Input should be less than or equal to 65535, not 70000",
            "max_browsers: Input should be a valid integer, unable to parse string as an"
            " integer, not 'many'",
            "retention_days: Input should be greater than 0, not -5",
            "daemons[0].token: Input should be a valid string",
            "alerts.targets.phone: Input should be a valid string",
        ]
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ws://127.0.0.1:99999", "daemons[0].url: Port out of range 0-65535"),
        ("ws://127.0.0.1:87x5", "daemons[0].url: Port could not be cast to integer value"),
    ],
)
def test_a_daemon_url_with_a_wrong_port_is_refused_by_key(
    tmp_path: Path, url: str, expected: str
) -> None:
    """It was loaded, then the start stopped on urlsplit's ValueError, a traceback."""
    lines = _problems(tmp_path, f"[[daemons]]\nurl = '{url}'\ntoken_file = '/nonexistent'\n")
    assert len(lines) == 1, lines
    assert lines[0].startswith(expected), lines


def test_a_value_an_option_set_is_not_blamed_on_the_file(tmp_path: Path) -> None:
    lines = _problems(tmp_path, "port = 8080\n", {"port": 70000, "host": None})
    assert lines == [
        "port (from the command line): Input should be less than or equal to 65535, not 70000"
    ]


def _start(*args: str) -> subprocess.CompletedProcess[str]:
    # A service that wrongly starts would run for ever: the timeout fails the test.
    return subprocess.run(
        [sys.executable, "-m", "web_extras", "--host", "127.0.0.1", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    # It never said it was running.
    assert "web service on" not in result.stderr
    return lines[0]


def test_a_taken_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = _refused(_start("--port", str(port), "--data-dir", str(tmp_path / "web")))
    assert line.startswith(f"beerpi-web: cannot listen on 127.0.0.1:{port}: ")
    assert "address already in use" in line


def test_a_relative_data_dir_is_shown_as_the_path_it_stands_for(tmp_path: Path) -> None:
    (tmp_path / "web").write_text("not a directory\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "web_extras", "--port", str(free_port()), "--data-dir", "web"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert _refused(result) == (
        f"beerpi-web: data_dir web (that is {tmp_path / 'web'}, relative to the working"
        " directory) is not a directory"
    )


def test_a_data_dir_that_is_a_file_is_named(tmp_path: Path) -> None:
    data_dir = tmp_path / "web"
    data_dir.write_text("not a directory\n", encoding="utf-8")
    line = _refused(_start("--port", str(free_port()), "--data-dir", str(data_dir)))
    assert line == f"beerpi-web: data_dir {data_dir} is not a directory"
    assert data_dir.read_text(encoding="utf-8") == "not a directory\n"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("session.key", b"zzzz\n", "cannot use the session key {path} ("),
        (
            "history.sqlite",
            b"not a database at all\x00" * 200,
            "the history {path} cannot be opened (file is not a database); it may be corrupt",
        ),
    ],
)
def test_a_damaged_file_in_the_data_dir_is_named_and_left_as_it_was(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    data_dir = tmp_path / "web"
    data_dir.mkdir()
    path = data_dir / name
    path.write_bytes(content)
    line = _refused(_start("--port", str(free_port()), "--data-dir", str(data_dir)))
    assert line.startswith("beerpi-web: " + expected.format(path=path)), line
    assert path.read_bytes() == content


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("mongo_url", "mongo_url: should start with mongodb:// or mongodb+srv://"),
        ("redis_url", "redis_url: should start with redis:// or rediss:// or unix://"),
    ],
)
def test_a_store_url_without_its_scheme_is_refused_at_once(
    tmp_path: Path, key: str, expected: str
) -> None:
    """Before: MongoDB took 30 s to fail with a traceback; Redis failed with one."""
    # A host and port with a password, but no scheme: not echoed.
    lines = _problems(tmp_path, f"{key} = 'user:secretpw@db.example:27017'\n")
    assert lines == [expected]


@pytest.mark.parametrize(
    ("option", "url", "expected"),
    [
        (
            "--mongo-url",
            "mongodb://brewer:secretpw@127.0.0.1:{port}/?serverSelectionTimeoutMS=1000",
            "beerpi-web: cannot reach the history in MongoDB (mongo_url): 127.0.0.1:{port}: ",
        ),
        (
            "--redis-url",
            "redis://:secretpw@127.0.0.1:{port}",
            "beerpi-web: cannot reach Redis (redis_url): Error 111 connecting to 127.0.0.1:{port}",
        ),
    ],
)
def test_a_store_out_of_reach_at_start_is_one_line(
    tmp_path: Path, option: str, url: str, expected: str
) -> None:
    port = free_port()  # nobody listens there
    result = _start(
        "--port", str(free_port()), "--data-dir", str(tmp_path / "web"),
        option, url.format(port=port),
    )  # fmt: skip
    line = _refused(result)
    assert line.startswith(expected.format(port=port)), line
    assert "secretpw" not in result.stderr


def test_a_session_key_that_cannot_be_written_says_the_data_dir_must_be_writable(
    tmp_path: Path,
) -> None:
    """Not 'remove it to make a new one' about a file that is not there."""
    data_dir = tmp_path / "web"
    (data_dir / "session.tmp").mkdir(parents=True)  # where the new key is written first
    line = _refused(_start("--port", str(free_port()), "--data-dir", str(data_dir)))
    assert line.startswith(f"beerpi-web: cannot write the session key {data_dir / 'session.key'} (")
    assert line.endswith("): the data_dir must be writable")


def test_ctrl_c_while_starting_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_args: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "parse", interrupted)
    assert cli.main([]) == 130
    assert capsys.readouterr().err == "beerpi-web: interrupted while starting\n"


@pytest.mark.parametrize("content", ['{"ws://beerpi.local:8765": "beerpi-1a', '["beerpi-1a2b"]'])
def test_damaged_dial_in_pins_stop_the_start_and_are_kept(tmp_path: Path, content: str) -> None:
    """Before: logged, then each entry pinned whichever device answered first, and the
    next pin written replaced the file."""
    data_dir = tmp_path / "web"
    data_dir.mkdir()
    pins = data_dir / "daemon-pins.json"
    pins.write_text(content, encoding="utf-8")
    token = tmp_path / "daemon.token"
    token.write_text("Vq3LrT8xZp2NwK7sHd4JmB6c\n", encoding="utf-8")
    daemon = f"ws://127.0.0.1:{free_port()}"
    args = ["--port", str(free_port()), "--data-dir", str(data_dir), "--daemon", daemon]
    line = _refused(_start(*args, "--daemon-token-file", str(token)))
    assert line.startswith((f"beerpi-web: {pins} ", f"beerpi-web: cannot read {pins} (")), line
    assert "fix" in line
    assert "remove it" in line
    assert pins.read_text(encoding="utf-8") == content
