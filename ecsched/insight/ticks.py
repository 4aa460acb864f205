"""Fire times of a schedule, forwards and backwards, as AWS evaluates them.

Rules run their UTC cron (a `timezone:` cron was converted when the file was built); Scheduler
schedules run their expression in their own zone, between their start and end dates. A `rate()` has
no phase we can know (it counts from when the rule was created), so it has an interval but no ticks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from ecsched import expressions
from ecsched.expressions import Expression
from ecsched.model import Schedule

_BATCH = 1024
_WINDOWS = (timedelta(hours=1), timedelta(days=1), timedelta(days=8), timedelta(days=32), timedelta(days=400))


def compiled(s: Schedule) -> tuple[Expression, str]:
    """The expression AWS runs and the zone it runs in."""
    return expressions.parse(s.expression, allow_at=s.backend == "scheduler"), s.timezone or "UTC"


def written(s: Schedule) -> tuple[str, str]:
    """The expression as the file has it, and its zone."""
    if s.local_expression:
        text, _, tz = s.local_expression.rpartition(" ")
        return text, tz
    return s.expression, s.timezone or "UTC"


def _bounds(s: Schedule) -> tuple[datetime | None, datetime | None]:
    from ecsched.insight.runs import parse_time

    return parse_time(s.start_date), parse_time(s.end_date)


def interval(s: Schedule) -> timedelta | None:
    """rate(): its interval. Otherwise None (use the ticks)."""
    expr, _ = compiled(s)
    if expr.kind != "rate":
        return None
    value, unit = expr.text[5:-1].split()
    return timedelta(**{unit.rstrip("s") + "s": int(value)})


def fires(s: Schedule, after: datetime, until: datetime, limit: int = 100_000) -> list[datetime]:
    """Fire times with after < t <= until (UTC, aware). Empty for rate(): its phase is unknown."""
    expr, tz = compiled(s)
    if expr.kind == "rate":
        return []
    lo, hi = _bounds(s)
    if lo and lo > after:
        after = lo - timedelta(seconds=1)
    if hi and hi < until:
        until = hi
    out: list[datetime] = []
    cursor = after
    utc = tz == "UTC"
    size = 8  # a first look, then as many as its pace says are left: a daily job needs 7 a week
    while len(out) < limit:
        batch = expr.next_fire_times(min(size, limit - len(out)), after=cursor, tz=tz)
        for t in batch:
            u = t if utc else t.astimezone(UTC)
            if u > until:
                return out
            out.append(u)
        if len(batch) < size or expr.kind == "at":
            return out
        pace = (batch[-1] - cursor) / len(batch)
        cursor = batch[-1]
        size = max(8, min(_BATCH, int((until - cursor) / pace * 1.1) + 2)) if pace else _BATCH
    return out


def next_fires(s: Schedule, n: int, now: datetime) -> list[datetime]:
    expr, tz = compiled(s)
    if expr.kind == "rate":
        return []
    lo, hi = _bounds(s)
    after = max(now, lo - timedelta(seconds=1)) if lo else now
    return [t.astimezone(UTC) for t in expr.next_fire_times(n, after=after, tz=tz)
            if hi is None or t <= hi]


@lru_cache(maxsize=4096)
def last_fire(s: Schedule, cutoff: datetime) -> datetime | None:
    """The latest fire time at or before `cutoff`, looking back at most about a year. (Cached: status
    asks twice per schedule, for the metrics window and for the flags.)"""
    for w in _WINDOWS:
        ticks = fires(s, cutoff - w, cutoff)
        if ticks:
            return ticks[-1]
    return None


def next_after(s: Schedule, t: datetime) -> datetime | None:
    """The first fire time after `t` (for rate(): t + its interval)."""
    step = interval(s)
    if step is not None:
        return t + step
    nxt = next_fires(s, 1, t)
    return nxt[0] if nxt else None


def preview(s: Schedule, n: int = 3, now: datetime | None = None) -> str:
    """For `diff` and its markdown: the next `n` fires in the file's own zone, e.g.
    `next: Mon 12-07 03:30 JST, Mon 12-14 03:30 JST, Mon 12-21 03:30 JST`."""
    from zoneinfo import ZoneInfo

    _, tz = written(s)
    zone = UTC if tz == "UTC" else ZoneInfo(tz)
    times = next_fires(s, n, now or datetime.now(UTC))
    if not times:
        why = "rate(): counted from when the rule was created" if interval(s) else "no more fires"
        return f"next: none ({why})"
    return "next: " + ", ".join(t.astimezone(zone).strftime("%a %m-%d %H:%M %Z") for t in times)
