"""What the schema cannot express: AWS's limits that need computing (the cron's meaning, the time
zone, dates, the size of the Input EventBridge receives), checked per rule. The file-wide checks
(duplicate names) are in config/validate.py.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from ecsched import expressions
from ecsched.config.file import ConfigFile
from ecsched.errors import Problem
from ecsched.yamlio import Path

MAX_INPUT = 8192


def _date(text: str, tz: str) -> datetime | None:
    """The Scheduler backend's own reading of a date (None: not a date)."""
    from zoneinfo import ZoneInfo

    from ecsched.dates import parse_date

    try:
        ZoneInfo(tz)
    except (KeyError, ValueError):  # a bad timezone is reported on its own
        tz = "UTC"
    try:
        return parse_date(text, tz)
    except ValueError:
        return None


def check_rule(f: ConfigFile, i: int, r: dict[str, Any], top: dict[str, Any]) -> tuple[list[Problem], list[Problem]]:
    """AWS's limits for one rule that the schema cannot express. Returns (errors, warnings).

    Runs on rules with schema errors too (every problem is reported), so each check looks at the
    types it needs and leaves wrong types to the schema's messages.
    """
    errors: list[Problem] = []
    name = str(r["name"]) if r.get("name") is not None else f"#{i + 1}"
    base: Path = ("rules", i)

    def err(msg: str, *key: str | int) -> None:
        errors.append(Problem(msg, rule=name, **f.where((*base, *key))))

    def setting(key: str) -> Any:
        v = r.get(key)
        return v if v not in (None, "") else top.get(key)

    backend = setting("backend") or "rules"
    expr_text = r.get("scheduleExpression")
    tz = setting("timezone")
    if isinstance(expr_text, str):
        try:
            expr = expressions.parse(expr_text, allow_at=(backend == "scheduler"))
        except expressions.ExpressionError as e:
            shown = "" if expr_text.strip() in e.message else f" `{expr_text}`"
            err(f"scheduleExpression{shown}: {e.message}", "scheduleExpression")
        else:
            if isinstance(tz, str) and tz and backend == "rules":
                try:
                    expressions.to_utc_cron(expr, tz)
                except expressions.ExpressionError as e:
                    err(f"timezone: {e.message}", "timezone" if r.get("timezone") else "scheduleExpression")
    if isinstance(tz, str) and tz and (backend != "rules" or not isinstance(expr_text, str)):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            err(f"timezone `{tz}` is not an IANA time zone (e.g. Asia/Tokyo, UTC)", "timezone")
    if backend == "scheduler":
        _scheduler(r, top, tz, err)

    # The Input that carries the overrides is limited to 8,192 characters.
    from ecsched.config.build import target_overrides

    try:
        size = len(json.dumps(target_overrides(r), separators=(",", ":"), ensure_ascii=False))
    except (TypeError, ValueError, KeyError, AttributeError):
        size = 0  # wrongly typed overrides: the schema's messages say why
    if size > MAX_INPUT:
        err(f"the overrides are {size} characters as JSON; EventBridge allows at most {MAX_INPUT} "
            "(move long values into the task definition)", "containerOverrides")
    return errors, []


def _scheduler(r: dict[str, Any], top: dict[str, Any], tz: Any, err: Any) -> None:
    from ecsched.config.build import flexible_window

    try:
        flexible_window(r.get("flexibleTimeWindow"))
    except ValueError as e:
        err(str(e), "flexibleTimeWindow")
    dates = {}
    for key in ("startDate", "endDate"):
        value = r.get(key)
        if isinstance(value, str) and value.strip():
            when = _date(value, tz if isinstance(tz, str) else "UTC")
            if when is None:
                err(f"{key} `{value}` is not a date: write e.g. 2026-04-01T09:00:00+09:00, "
                    "2026-04-01T00:00:00Z or 2026-04-01", key)
            else:
                dates[key] = when
    if len(dates) == 2 and dates["endDate"] <= dates["startDate"]:
        err("endDate is not after startDate", "endDate")
    group = r.get("scheduleGroup") or top.get("scheduleGroup")
    if isinstance(group, str) and group:
        key = "scheduleGroup"
        if group == "default":
            # ecsched owns schedules through a tag on their group, and the default group takes no tags.
            err("scheduleGroup `default` cannot be tagged, so ecsched could never own it: "
                "leave scheduleGroup out (ecsched-<trackingId>) or name your own group", key)
        elif not re.fullmatch(r"[0-9A-Za-z_.\-]{1,64}", group):
            err(f"scheduleGroup `{group}` must be 1-64 of letters, digits, `.`, `-` and `_`", key)
