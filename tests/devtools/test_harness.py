"""The process harness with a small real child: ports, readiness, logs, restarts, stop."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from beerpi_devtools.harness import Child, PortTakenError, StartError, free_port, ready_line

# Binds the port it is given, says so, and serves until SIGTERM; a taken port makes it
# exit with Python's "Address already in use".
SERVER = """
import socket, sys, time
sock = socket.socket()
sock.bind(("127.0.0.1", int(sys.argv[1])))
sock.listen()
print("listening on", sys.argv[1], flush=True)
time.sleep(60)
"""


def server(log: Path, port: int | None = None) -> Child:
    return Child(
        lambda p: [sys.executable, "-c", SERVER, str(p)],
        log,
        ready=ready_line("listening on"),
        port=port,
        name="server",
        start_timeout_s=20,
    )


@pytest.fixture
def taken() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_a_first_start_on_a_port_taken_meanwhile_moves_to_a_free_one(
    tmp_path: Path, taken: int
) -> None:
    child = server(tmp_path / "log")
    child.port = taken  # as if another process bound it after free_port() picked it
    with child:
        assert child.port != taken
        assert f"listening on {child.port}" in child.output()
        assert "already in use" in child.log_text().lower()  # the failed try is logged


def test_a_port_the_caller_chose_is_kept_and_its_loss_reported(tmp_path: Path, taken: int) -> None:
    with pytest.raises(PortTakenError):
        server(tmp_path / "log", port=taken).start()


def test_a_restart_keeps_the_port_and_reads_only_its_own_output(tmp_path: Path) -> None:
    port = free_port()
    child = server(tmp_path / "log", port=port)
    with child:
        assert child.stop() == -15  # SIGTERM
        assert not child.running
        child.start()
        assert child.port == port
        assert child.output().count("listening on") == 1
        assert child.log_text().count("listening on") == 2
        assert child.starts == 2


def test_a_child_that_exits_early_fails_the_start_with_its_log(tmp_path: Path) -> None:
    child = Child(
        lambda _p: [sys.executable, "-c", "print('bad config'); raise SystemExit(2)"],
        tmp_path / "log",
        ready=ready_line("never"),
    )
    with pytest.raises(StartError, match="bad config"):
        child.start()
    with pytest.raises(StartError, match="exited with 2"):
        child.check_alive()
