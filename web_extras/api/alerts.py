"""Alerts: what is configured (names only, never a target's URL) and a test notification."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from web_extras.alerts.rules import Alert, Severity
from web_extras.errors import ApiError, bad_request, not_found
from web_extras.keys import ALERTS, CONFIG

from .common import json_object

routes = web.RouteTableDef()


def _rule_json(rule: Any) -> dict[str, Any]:
    return rule.model_dump(mode="json")  # type: ignore[no-any-return]


@routes.get("/api/alerts")
async def alerts_summary(request: web.Request) -> web.Response:
    config = request.app[CONFIG].alerts
    return web.json_response(
        {
            "enabled": config.enabled,
            "targets": sorted(config.targets),
            "rules": [_rule_json(rule) for rule in config.rules],
            "max_per_window": config.max_per_window,
            "window_min": config.window_min,
        }
    )


@routes.post("/api/alerts/test")
async def alerts_test(request: web.Request) -> web.Response:
    body = await json_object(request, optional=True)
    engine = request.app[ALERTS]
    if engine is None:
        raise ApiError(409, "no_targets", "no alert targets are configured ([alerts.targets])")
    target = body.get("target")
    if target is not None and not isinstance(target, str):
        raise bad_request("target must be the name of a target")
    if target is not None and target not in engine.notifier.targets:
        raise not_found(f"no alert target {target[:64]!r}", "unknown_target")
    now = engine.clock()
    probe = Alert(-1, "", "test", "", Severity.INFO, now)
    if not engine.test_limiter.admit("test", probe, now):
        raise ApiError(429, "rate_limited", "at most 3 test notifications a minute; try again soon")
    targets = [target] if target else list(engine.notifier.targets)
    if not await engine.send_test(target):
        raise ApiError(
            502,
            "notify_failed",
            f"not every target accepted the test notification ({', '.join(targets)}); "
            "the service's log says which and why",
        )
    return web.json_response({"sent": True, "targets": targets})
