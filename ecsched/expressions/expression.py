"""The public `Expression` and `parse()`: cron(), rate() and at(), validated and canonical."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal

from ecsched.expressions.describe import _describe_cron
from ecsched.expressions.fields import _OUTER, ExpressionError, _compile_cron, _compile_fields
from ecsched.expressions.fires import _iter_local, _zone


@dataclass(frozen=True)
class Expression:
    """A validated schedule expression. Build it with `parse()`; `text` is canonical."""

    kind: Literal["cron", "rate", "at"]
    text: str

    def __str__(self) -> str:
        return self.text

    def next_fire_times(self, n: int, after: datetime | None = None, tz: str = "UTC") -> list[datetime]:
        """The next `n` fire times strictly after `after` (default: now), as aware datetimes in `tz`.

        cron fields are read as wall-clock time in `tz` (rules: UTC); see the module docstring for DST.
        rate(): `after` + k * interval. at(): its time, read in `tz`, if later than `after`, else [].
        Fewer than `n` come back when the year field runs out (2199). A naive `after` is taken as UTC.
        Compare results as instants (`.timestamp()`, `.astimezone(UTC)`): Python's `==` never equates a
        local time inside a repeated (fall-back) hour with a time in another zone.
        """
        zone = _zone(tz)
        if n <= 0:
            return []
        now = datetime.now(UTC) if after is None else after
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        if self.kind == "rate":
            step = _rate_delta(self.text)
            return [(now + step * k).astimezone(zone) for k in range(1, n + 1)]
        if self.kind == "at":
            # zoneinfo reads a nonexistent local time with the offset before the gap, i.e. it moves on.
            when = _at_datetime(self.text).replace(tzinfo=zone)
            return [when] if when > now else []
        spec = _compile_cron(self.text)
        start = now.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=1)
        out: list[datetime] = []
        fixed = zone.utcoffset(None) is not None  # UTC and other fixed zones: no gaps, no folds
        for local in _iter_local(spec, start):
            when = local.replace(tzinfo=zone)
            if not fixed:
                if when.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
                    continue  # falls in a DST gap: AWS Scheduler skips it
                if when <= now:
                    continue  # first pass of a repeated hour, before `after`
            out.append(when)
            if len(out) == n:
                break
        return out

    def describe(self, tz: str = "UTC") -> str:
        """Human text: "At 18:30 UTC every day", "Every 5 minutes", "Once at 2026-12-01 10:00 UTC"."""
        _zone(tz)
        if self.kind == "rate":
            value, unit = self.text[5:-1].split()
            return f"Every {unit}" if value == "1" else f"Every {value} {unit}"
        if self.kind == "at":
            when = _at_datetime(self.text)
            fmt = "%Y-%m-%d %H:%M:%S" if when.second else "%Y-%m-%d %H:%M"
            return f"Once at {when.strftime(fmt)} {tz}"
        return _describe_cron(_compile_cron(self.text), tz)


def parse(text: str, *, allow_at: bool = False) -> Expression:
    """Parse and fully validate a schedule expression; raise ExpressionError with a sentence if invalid.

    `at(...)` is accepted only with `allow_at` (EventBridge Scheduler).
    """
    if not isinstance(text, str):
        raise ExpressionError(f"a schedule expression must be text, got {type(text).__name__}")
    return _parse(text, allow_at)

_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def _forms(allow_at: bool) -> str:
    return "use cron(...), rate(...) or at(...)" if allow_at else "use cron(...) or rate(...)"


@lru_cache(maxsize=4096)
def _parse(text: str, allow_at: bool) -> Expression:
    s = text.strip()
    m = _OUTER.fullmatch(s)
    kind = m.group(1).lower() if m else ""
    if m is None or kind not in ("cron", "rate", "at"):
        shown = s if len(s) <= 60 else s[:57] + "..."
        raise ExpressionError(f"`{shown}` is not a schedule expression: {_forms(allow_at)}")
    body = m.group(2).split()
    if kind == "cron":
        canonical = "cron(" + " ".join(body).upper() + ")"
        _compile_fields(tuple(body), canonical)
        return Expression("cron", canonical)
    if kind == "rate":
        return Expression("rate", _parse_rate(body))
    if not allow_at:
        raise ExpressionError(
            "at() one-time schedules need `backend: scheduler`; "
            "EventBridge rules accept only cron() and rate()"
        )
    return Expression("at", _parse_at(body))


def _parse_rate(body: list[str]) -> str:
    shown = "rate(" + " ".join(body) + ")"
    if len(body) != 2:
        raise ExpressionError(f"{shown} needs a value and a unit, e.g. rate(5 minutes)")
    value_s, unit = body[0], body[1].lower()
    if not (value_s.isascii() and value_s.isdigit()) or int(value_s) == 0:
        raise ExpressionError(f"{shown}: the value must be a positive whole number, e.g. rate(5 minutes)")
    value = int(value_s)
    singular = unit.removesuffix("s")
    if singular not in _RATE_UNITS:
        raise ExpressionError(f"{shown}: the unit must be minute(s), hour(s) or day(s)")
    if value == 1 and unit != singular:
        raise ExpressionError(
            f"{shown} needs the singular unit when the value is 1: write rate(1 {singular})"
        )
    if value != 1 and unit == singular:
        raise ExpressionError(f"{shown} needs a plural unit: write rate({value} {singular}s)")
    return f"rate({value} {unit})"


def _rate_delta(text: str) -> timedelta:
    value, unit = text[5:-1].split()
    return timedelta(seconds=int(value) * _RATE_UNITS[unit.removesuffix("s")])


def _parse_at(body: list[str]) -> str:
    inner = " ".join(body)
    if not _AT.fullmatch(inner):
        raise ExpressionError(f"at({inner}) is not a valid date-time: use at(yyyy-mm-ddThh:mm:ss)")
    try:
        datetime.fromisoformat(inner)
    except ValueError:
        raise ExpressionError(f"at({inner}) is not a valid date-time: use at(yyyy-mm-ddThh:mm:ss)") from None
    return f"at({inner})"


def _at_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text[3:-1])


