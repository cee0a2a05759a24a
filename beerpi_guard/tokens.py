"""Shared secrets: a minimum strength, and reading them from a file or the environment.

A token guards relays that heat or cool a fermenter, so a short or well-known
one is refused when a server starts, with a message that says how to make a
good one. The estimate is deliberately simple: length times the Shannon entropy
of the characters used. It refuses short, repetitive and sequential strings
and every placeholder in BeerPi's own docs; it cannot know that a long
sentence is famous, so the message recommends a generated token.
"""

from __future__ import annotations

import itertools
import math
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from beerpi_guard.config_file import shown_path

MIN_TOKEN_LENGTH = 16
# secrets.token_urlsafe(16) (22 characters, 128 random bits) never estimated
# below 70 bits in a million tries, token_hex(16) never below 90.
MIN_TOKEN_BITS = 64.0
GENERATE_HINT = "python3 -c 'import secrets; print(secrets.token_urlsafe(24))'"

# Placeholders from BeerPi's examples and docs, and words that mark one.
_PLACEHOLDERS = frozenset(
    {
        "change-me-to-a-long-random-secret",
        "change-me-to-something-long",
        "the-daemon-token",
        "this-device's-token-on-the-service",
        "a-long-random-token-for-that-device",
        "beerpi-demo",
        "secret-token",
    }
)
_PLACEHOLDER_WORDS = (
    "change-me",
    "changeme",
    "change_me",
    "replace-me",
    "replaceme",
    "placeholder",
    "example",
    "your-token",
    "your_token",
)


class WeakSecretError(ValueError):
    """A secret that must not be used; the message says which one and why."""


def estimated_bits(token: str) -> float:
    """Length times the per-character Shannon entropy of ``token`` (an upper bound)."""
    if not token:
        return 0.0
    counts = Counter(token)
    n = len(token)
    return abs(sum(c / n * math.log2(c / n) for c in counts.values()) * n)


def _sequential(token: str) -> bool:
    """True for runs like "0123456789abcdefghij" or "aaaabbbbcccc": mostly steps of 0 or 1."""
    steps = [abs(ord(b) - ord(a)) for a, b in itertools.pairwise(token)]
    return bool(steps) and sum(step <= 1 for step in steps) >= 0.8 * len(steps)


def token_problem(token: str) -> str | None:
    """Why ``token`` is too weak to guard a BeerPi, or None when it will do."""
    lowered = token.strip().lower()
    if lowered in _PLACEHOLDERS or any(word in lowered for word in _PLACEHOLDER_WORDS):
        return "it is the placeholder from an example"
    if len(token) < MIN_TOKEN_LENGTH:
        return f"it has {len(token)} characters; at least {MIN_TOKEN_LENGTH} are needed"
    if _sequential(token):
        return "it is mostly a run of repeated or consecutive characters"
    bits = estimated_bits(token)
    if bits < MIN_TOKEN_BITS:
        return f"it is too predictable (about {bits:.0f} bits; at least {MIN_TOKEN_BITS:.0f})"
    return None


def check_token(what: str, token: str) -> None:
    """Raise WeakSecretError naming ``what`` when ``token`` is too weak."""
    problem = token_problem(token)
    if problem is not None:
        raise WeakSecretError(f"{what} is too weak: {problem}. Generate one with: {GENERATE_HINT}")


def read_secret_file(path: Path, what: str) -> str:
    """The secret in ``path`` (surrounding whitespace and the final newline dropped)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as err:
        raise WeakSecretError(
            f"cannot read {what} from {shown_path(path)}: {err.strerror or err}"
        ) from None
    except UnicodeDecodeError:
        raise WeakSecretError(f"{what} file {shown_path(path)} is not UTF-8 text") from None
    if not text:
        raise WeakSecretError(f"{what} file {shown_path(path)} is empty")
    return text


def resolve_secret(
    what: str,
    value: str | None,
    file: Path | None,
    env_name: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """The secret from exactly one of: the value, the file, the environment variable.

    A value and a file together are a mistake (which one wins would surprise
    someone); the environment is used only when neither is given.
    """
    if value and file is not None:
        raise WeakSecretError(f"give {what} or its file, not both")
    if file is not None:
        return read_secret_file(file, what)
    if value:
        return value
    if env_name:
        found = (os.environ if environ is None else environ).get(env_name, "").strip()
        return found or None
    return None
