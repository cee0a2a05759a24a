"""`make demo` (scripts/demo.py) stopped with SIGTERM stops its daemon and web service."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_stops_the_demos_daemon_and_web_service(tmp_path: Path) -> None:
    daemon_port, web_port = free_port(), free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "scripts.demo", "--data-dir", str(tmp_path),
         "--daemon-port", str(daemon_port), "--web-port", str(web_port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            if "Ctrl-C stops it." in line:
                break
        assert listening(daemon_port)
        assert listening(web_port)
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
        deadline = time.monotonic() + 15
        while (listening(daemon_port) or listening(web_port)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not listening(daemon_port), "the demo's daemon outlived it"
        assert not listening(web_port), "the demo's web service outlived it"
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
