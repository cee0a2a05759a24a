"""Reading a deployable's TOML config file and wording its problems, the same for both.

The daemon and the web service validate differently (dataclass readers on the Pi,
pydantic in the service), but a missing, unreadable or malformed file, and the list
of problems that refuses a start, read the same from either.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

COMMAND_LINE = "command line"


def read_toml(path: Path | None, error: type[Exception]) -> tuple[dict[str, Any], str]:
    """The file's tables (none without a file) and the source that error messages name.

    Raises ``error`` (the caller's ConfigError) with a message that names the file;
    tomllib's message names the line, never the content.
    """
    if path is None:
        return {}, COMMAND_LINE
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), str(path)
    except FileNotFoundError as err:
        raise error(f"config file {path} does not exist") from err
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"cannot read config file {path}: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise error(f"config file {path} is not valid TOML: {err}") from err


def problem_line(where: str, message: str) -> str:
    """One problem as ``dotted.key: what is wrong``."""
    return f"{where or '(top level)'}: {message}"


def invalid_config(source: str, problems: list[str]) -> str:
    """The message that refuses a start: the source, then each problem on its own line."""
    return "\n  ".join([f"invalid configuration ({source}):", *problems])


def shown_path(path: Path) -> str:
    """A path as a message shows it: a relative one with what it stands for here.

    A relative path means the working directory, which is / under systemd: the
    brewer who wrote ``data_dir = "data"`` must see that it was taken as /data.
    """
    if path.is_absolute():
        return str(path)
    return f"{path} (that is {path.absolute()}, relative to the working directory)"


def prepare_data_dir(data_dir: Path, label: str, error: type[Exception]) -> None:
    """Make the data dir if need be; ``error`` naming it (as ``label``) when it cannot be."""
    if data_dir.exists() and not data_dir.is_dir():
        raise error(f"{label} {shown_path(data_dir)} is not a directory")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise error(f"cannot create {label} {shown_path(data_dir)}: {err.strerror or err}") from err
