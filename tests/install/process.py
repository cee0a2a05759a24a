"""Run a command as a user would and wait until its HTTP address answers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.daemon import free_port

__all__ = ["Running", "free_port", "get", "get_json", "running"]


@dataclass
class Running:
    process: subprocess.Popen[str]
    lines: list[str]

    @property
    def output(self) -> str:
        return "".join(self.lines)


def get(url: str, timeout_s: float = 5) -> tuple[int, str, str]:
    """Status, content type and body of a GET (an HTTP error is an answer too)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status, response.headers.get_content_type(), response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get_content_type(), err.read().decode()


def get_json(url: str) -> Any:
    status, _, body = get(url)
    assert status == 200, f"{url}: {status} {body[:200]}"
    return json.loads(body)


@contextlib.contextmanager
def running(argv: list[str], cwd: Path, ready_url: str, timeout_s: float = 60) -> Iterator[Running]:
    """Start ``argv``, wait until ``ready_url`` answers 200, stop it with SIGTERM afterwards."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    stream = process.stdout
    assert stream is not None
    # Drained all along so a chatty process never blocks on a full pipe.
    reader = threading.Thread(target=lambda: lines.extend(stream), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                reader.join(5)
                raise AssertionError(
                    f"{argv[0]} exited with {process.returncode}:\n{''.join(lines)}"
                )
            with contextlib.suppress(OSError):
                if get(ready_url, timeout_s=2)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"{ready_url} did not answer in {timeout_s:g} s")
            time.sleep(0.2)
        yield Running(process, lines)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(5)
