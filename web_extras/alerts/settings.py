"""The ``[alerts]`` section of the web service's config: where alerts go and when.

```toml
[alerts]
max_per_window = 3       # per rule and device; the rest are held and summed up
window_min = 30

[alerts.targets]         # name = Apprise URL (ntfy, e-mail, Telegram, Pushover, ...)
phone = "ntfy://ntfy.sh/my-secret-topic"

[[alerts.rules]]
kind = "fault"           # any fault raised or cleared
[[alerts.rules]]
kind = "out_of_range"    # the thermostat's probe beyond target ± 1 °C for 20 min
tolerance_c = 1.0
for_min = 20
[[alerts.rules]]
kind = "gravity_stable"  # a hydrometer's gravity within 0.001 for 24 h
```

Target URLs hold secrets (tokens, passwords): no message here repeats one. They
may also live in a file of their own, ``targets_file = "/etc/beerpi/alerts.toml"``
in ``[alerts]`` (the same ``name = URL`` lines), merged by web_extras/config.py.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Minutes = Annotated[float, Field(gt=0, le=7 * 24 * 60, allow_inf_nan=False)]
Celsius = Annotated[float, Field(ge=-50, le=150, allow_inf_nan=False)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
DeviceId = Annotated[str, Field(min_length=1, max_length=128)]


class _Section(BaseModel):
    # A typo in a key must fail loudly, not leave an alert silently off.
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Rule(_Section):
    # Empty: every device. Otherwise only these device ids.
    devices: list[DeviceId] = Field(default_factory=list)
    # Names from [alerts.targets]; empty: every target.
    notify: list[Name] = Field(default_factory=list)

    def applies_to(self, device: str) -> bool:
        return not self.devices or device in self.devices


class FaultRule(_Rule):
    """A fault raised on the daemon (probe, relay, thermostat, storage, camera, link, ...)."""

    kind: Literal["fault"]
    # Only these fault codes (e.g. "disconnected", "link"); empty: every code.
    codes: list[Name] = Field(default_factory=list)
    # Also say when the fault clears.
    cleared: bool = True


class OutOfRangeRule(_Rule):
    """A probe outside a band for ``for_min`` minutes, and when it comes back."""

    kind: Literal["out_of_range"]
    # The probe to watch; by default the one the thermostat controls.
    probe: Name | None = None
    # Either a band around the thermostat's target (only while its mode is not off)...
    tolerance_c: Annotated[float, Field(gt=0, le=50, allow_inf_nan=False)] | None = None
    # ...or fixed limits (one or both).
    min_c: Celsius | None = None
    max_c: Celsius | None = None
    for_min: Minutes = 15.0

    @model_validator(mode="after")
    def _band(self) -> Self:
        fixed = self.min_c is not None or self.max_c is not None
        if self.tolerance_c is None and not fixed:
            raise ValueError("give tolerance_c (around the target) or min_c and/or max_c")
        if self.tolerance_c is not None and fixed:
            raise ValueError("give either tolerance_c or min_c/max_c, not both")
        if self.min_c is not None and self.max_c is not None and self.min_c >= self.max_c:
            raise ValueError("min_c must be below max_c")
        return self


class OfflineRule(_Rule):
    """A device without a link to this service for ``for_min`` minutes, and its return."""

    kind: Literal["offline"]
    for_min: Minutes = 10.0


class ProfileStepRule(_Rule):
    """A fermentation profile step done, and the whole profile finished."""

    kind: Literal["profile_step"]


class GravityStableRule(_Rule):
    """A hydrometer's gravity steady (within ``within`` for ``hours``): fermentation is done."""

    kind: Literal["gravity_stable"]
    within: Annotated[float, Field(gt=0, le=0.02, allow_inf_nan=False)] = 0.001
    hours: Annotated[float, Field(gt=0, le=7 * 24, allow_inf_nan=False)] = 24.0
    # Only these hydrometer ids; empty: every hydrometer of the device.
    hydrometers: list[Name] = Field(default_factory=list)


Rule = Annotated[
    FaultRule | OutOfRangeRule | OfflineRule | ProfileStepRule | GravityStableRule,
    Field(discriminator="kind"),
]


def apprise_accepts(url: str) -> bool:
    """Whether Apprise can build a notifier from ``url`` (sends nothing)."""
    import apprise  # the web extra; loaded only when alerts are configured

    return bool(apprise.Apprise().add(url))


class AlertsConfig(_Section):
    targets: dict[Name, Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        default_factory=dict
    )
    rules: list[Rule] = Field(default_factory=list)
    # At most this many notifications per rule and device in any window_min
    # minutes; the ones over are held and sent as one summary when it allows.
    max_per_window: Annotated[int, Field(ge=1, le=100)] = 3
    window_min: Minutes = 30.0
    # First word of every notification's title.
    title: Annotated[str, Field(min_length=1, max_length=40)] = "BeerPi"

    @field_validator("targets")
    @classmethod
    def _targets(cls, targets: dict[str, str]) -> dict[str, str]:
        for name, url in targets.items():
            if not apprise_accepts(url):
                # The URL holds secrets: name the target, never echo it.
                raise ValueError(
                    f"target {name!r}: Apprise does not understand its URL (check the scheme "
                    "and the fields its service needs; the Apprise wiki lists them)"
                )
        return targets

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.rules and not self.targets:
            raise ValueError("alert rules need at least one target in [alerts.targets]")
        for index, rule in enumerate(self.rules):
            unknown = sorted(set(rule.notify) - set(self.targets))
            if unknown:
                raise ValueError(
                    f"rules[{index}] ({rule.kind}) notifies unknown target(s) "
                    f"{', '.join(unknown)}; targets are {', '.join(sorted(self.targets))}"
                )
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.targets)
