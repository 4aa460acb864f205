"""Shared by the expression tests: fire times from a text date, compared as UTC instants."""

from __future__ import annotations

from datetime import UTC, datetime

from ecsched.expressions import parse


def utc(text: str) -> datetime:
    """'2026-03-02 09:00' -> aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fires_local(expr: str, after: str, n: int, tz: str = "UTC") -> list[datetime]:
    return parse(expr, allow_at=True).next_fire_times(n, after=utc(after), tz=tz)


def fires(expr: str, after: str, n: int, tz: str = "UTC") -> list[datetime]:
    """The fire times as UTC instants: Python's == never equates a local time inside a repeated
    (fall-back) hour with a time in another zone, so compare instants."""
    return [t.astimezone(UTC) for t in fires_local(expr, after, n, tz)]


def cron_field(values: set[int], lo: int, hi: int) -> str:
    """A set of values as a cron field: `*` when it is all of lo..hi."""
    return "*" if values == set(range(lo, hi + 1)) else ",".join(str(v) for v in sorted(values))
