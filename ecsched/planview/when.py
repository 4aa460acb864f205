"""When a schedule fires, in words and times: in the zone the file was written in, with UTC beside it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ecsched.model import Schedule
from ecsched.plan import Change


def _expr(s: Schedule) -> Any:
    from ecsched import expressions

    try:
        return expressions.parse(s.expression, allow_at=s.backend == "scheduler")
    except ValueError:
        return None


def zone_of(s: Schedule) -> str:
    """The zone the file wrote the schedule in: a rule's `timezone:` (kept in its local form) or the
    Scheduler's own zone; UTC otherwise."""
    if s.local_expression and " " in s.local_expression.rstrip(")"):
        return s.local_expression.rsplit(" ", 1)[1]
    return s.timezone or "UTC"


def describe(s: Schedule) -> str:
    """"At 18:30 UTC every day"; the expression itself if it cannot be described. A `timezone:` cron on
    the rules backend is described as written ("At 03:30 Asia/Tokyo every day")."""
    from ecsched import expressions

    text, tz = s.expression, s.timezone or "UTC"
    if s.local_expression and " " in s.local_expression.rstrip(")"):
        text, tz = s.local_expression.rsplit(" ", 1)
    try:
        return str(expressions.parse(text, allow_at=s.backend == "scheduler").describe(tz=tz))
    except ValueError:
        return s.expression


def next_times(s: Schedule, n: int = 3, now: datetime | None = None) -> list[str]:
    """The next `n` fire times in the file's zone, with its abbreviation ("Mon 2026-12-07 03:30 JST"), and
    UTC beside them when that differs. Empty for rate(): it counts from when the rule is created or
    enabled, not from the clock."""
    from zoneinfo import ZoneInfo

    expr = _expr(s)
    if expr is None or expr.kind == "rate":
        return []
    shown = zone_of(s)
    try:
        times = expr.next_fire_times(n, after=now or datetime.now(UTC), tz=s.timezone or "UTC")
        zone = ZoneInfo(shown)
    except (ValueError, KeyError):
        return []
    out = []
    for t in times:
        # What runs is the expression AWS has: times come from it, shown in the zone the file was written in.
        utc = t.astimezone(UTC)
        if shown == "UTC":
            out.append(utc.strftime("%a %Y-%m-%d %H:%M UTC"))
        else:
            local = t.astimezone(zone)
            out.append(f"{local.strftime('%a %Y-%m-%d %H:%M')} {local.tzname() or shown} "
                       f"({utc.strftime('%Y-%m-%d %H:%M')} UTC)")
    return out


def schedule_line(ch: Change, now: datetime | None = None) -> str:
    """One sentence on when a new or changed rule fires:
    "At 03:30 Asia/Tokyo on Monday (was: ...); next Mon 2026-12-07 03:30 JST (2026-12-06 18:30 UTC), ..."."""
    s = ch.desired
    if s is None or ch.action not in ("create", "update"):
        return ""
    text = describe(s)
    if ch.live is not None and ch.live.expression != s.expression:
        text += f" (was: {describe(ch.live)})"
    if not s.enabled:
        return f"{text}; paused: it will not fire until resumed"
    expr = _expr(s)
    if expr is not None and expr.kind == "rate":
        return f"{text}, counted from when the rule is {'created' if ch.action == 'create' else 'enabled'}"
    nxt = next_times(s, 3, now)
    return f"{text}; next {', '.join(nxt)}" if nxt else f"{text}; it will not fire again"
