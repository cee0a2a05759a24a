"""Run a command as a user would and wait until its HTTP address answers."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from beerpi_devtools.harness import Child, free_port

__all__ = ["Running", "free_port", "get", "get_json", "running"]


class Running(Child):
    """A command run as a user would; ready when its HTTP address answers 200."""

    def __init__(self, argv: list[str], cwd: Path, ready_url: str, log_path: Path) -> None:
        super().__init__(
            lambda _port: argv,
            log_path,
            ready=lambda _child: _answers(ready_url),
            name=argv[0],
            cwd=cwd,
        )


def _answers(url: str) -> bool:
    with contextlib.suppress(OSError):
        return get(url, timeout_s=2)[0] == 200
    return False


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
    process = Running(argv, cwd, ready_url, cwd / f"{Path(argv[0]).name}.log")
    process.start_timeout_s = timeout_s
    with process:
        yield process
