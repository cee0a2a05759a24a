"""deploy/web.example.toml names every option the service reads.

The README sends the brewer there for "every option". Each field of the config,
its daemon and hydrometer entries and its alert rules is shown as ``key = ...``
(set or commented out) or as its table; the secrets' inline twins, which the
example advises against, are named in its secrets comment instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from pydantic import BaseModel

from web_extras.alerts.settings import AlertsConfig, Rule
from web_extras.config import DaemonLink, Hydrometer, WebConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "web.example.toml"
# Every alert rule kind, as the config's discriminated union lists them.
RULE_KINDS: tuple[type[BaseModel], ...] = get_args(get_args(Rule)[0])
MODELS: tuple[type[BaseModel], ...] = (
    WebConfig,
    DaemonLink,
    Hydrometer,
    AlertsConfig,
    *RULE_KINDS,
)
INLINE_SECRETS = {
    (WebConfig, "api_token"),
    (WebConfig, "device_tokens"),
    (DaemonLink, "token"),
    (Hydrometer, "token"),
}


def test_the_web_example_names_every_option() -> None:
    text = EXAMPLE.read_text()
    secrets_comment = text[text.index("# Secrets live in files") :].split("\n\n")[0]
    missing = []
    for model in MODELS:
        for key in model.model_fields:
            if (model, key) in INLINE_SECRETS:
                shown = re.search(rf"\b{key}\b", secrets_comment) is not None
            else:
                as_key = re.search(rf"^(# ?)?{key} = ", text, re.M)
                as_table = re.search(rf"^(# ?)?\[+(alerts\.)?{key}[\].]", text, re.M)
                shown = bool(as_key or as_table)
            if not shown:
                missing.append(f"{model.__name__}.{key}")
    assert not missing, f"not in deploy/web.example.toml: {missing}"
