"""Dates in the config and in EventBridge Scheduler: one parser for the file, validation and the backend."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo


def parse_date(value: Any, tz: str = "UTC") -> datetime:
    """A config or AWS date as an aware UTC datetime. Text without an offset is read in `tz`.

    Raises ValueError with a sentence when it is not a date.
    """
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"`{text}` is not a date: write e.g. 2026-04-01T09:00:00+09:00, "
                             "2026-04-01T00:00:00Z or 2026-04-01") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when.astimezone(UTC).replace(microsecond=0)


def format_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def effective_start(value: str | None, now: datetime | None = None) -> str | None:
    """A StartDate that has passed does nothing, and AWS rejects one older than 5 minutes on every write:
    so a past start date is the same as none, in the file and live alike."""
    if value is None:
        return None
    when = parse_date(value)
    return None if when <= (now or datetime.now(UTC)) else format_date(when)


