"""When to switch: a quiet moment between two fire times, the clock that says what time it is, and
where the migration reports (`Sink`: the command's Context is one)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ecsched import expressions
from ecsched.model import Schedule

# A rule fires within a minute of its time, so switch only this long after a fire time...
AFTER_FIRE = timedelta(seconds=90)
# ...and with this much to spare before the next one (two API calls take well under a second).
BEFORE_FIRE = timedelta(seconds=30)

Timed = tuple[expressions.Expression, str]  # an expression and the zone its fields are read in


class Clock(Protocol):
    """Wall time and waiting: passed in, so that tests drive time instead of sleeping."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class Sink(Protocol):
    """Where the migration reports: the command's output (stdout) and its messages (stderr)."""

    def out(self, text: str = "") -> None: ...

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def error(self, message: str) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def quiet_moment(timed: list[Timed], now: datetime, max_wait: timedelta) -> datetime | None:
    """The first moment from `now` with no fire time in [moment - AFTER_FIRE, moment + BEFORE_FIRE],
    for every (expression, zone); None when there is none within `max_wait`."""
    t = now
    while t - now <= max_wait:
        fires = [f for e, tz in timed for f in e.next_fire_times(1, after=t - AFTER_FIRE, tz=tz)]
        nxt = min((f.astimezone(UTC) for f in fires), default=None)
        if nxt is None or nxt > t + BEFORE_FIRE:
            return t
        t = nxt + AFTER_FIRE
    return None


def near_misses(timed: list[Timed], start: datetime, end: datetime) -> list[datetime]:
    """Fire times too close to a switch made between `start` and `end` to be sure they ran once."""
    return [f for e, tz in timed for f in e.next_fire_times(1, after=start - AFTER_FIRE, tz=tz)
            if f.astimezone(UTC) <= end + BEFORE_FIRE]


def timed(s: Schedule) -> Timed | None:
    expr = expressions.parse(s.expression, allow_at=True)
    # rate() has no fixed fire times (it counts from when it was created): there is nothing to avoid.
    return None if expr.kind == "rate" else (expr, s.timezone or "UTC")


def fmt(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
