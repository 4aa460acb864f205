"""A local-time cron as one UTC cron, for EventBridge rules (they run in UTC only)."""

from __future__ import annotations

import calendar
import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ecsched.expressions.describe import _step_of, spans
from ecsched.expressions.expression import Expression, _at_datetime, parse
from ecsched.expressions.fields import (
    _ALL,
    _DOM,
    _DOW,
    _DOW_NAMES,
    _HI,
    _HOUR,
    _MIN,
    _MONTH,
    _YEAR,
    ExpressionError,
    _compile_cron,
    _Cron,
)
from ecsched.expressions.fires import _zone


def _offset_minutes(zone: ZoneInfo, tz: str) -> int:
    """The zone's one UTC offset from this year on, in minutes; ExpressionError if it changes (DST)."""
    offsets = set(_zone_offsets(zone, datetime.now(UTC).year))
    if len(offsets) > 1:
        shown = " and ".join(sorted(_fmt_offset(o) for o in offsets))
        raise ExpressionError(
            f"time zone `{tz}` changes its UTC offset during the year ({shown}, daylight saving time), so a "
            f"cron in {tz} cannot be one UTC cron for an EventBridge rule; use `backend: scheduler`, which "
            f"evaluates cron in the time zone"
        )
    return int(offsets.pop().total_seconds()) // 60


@functools.lru_cache(maxsize=64)
def _zone_offsets(zone: ZoneInfo, this_year: int) -> frozenset[timedelta]:
    """Every UTC offset the zone uses from this year on. Cached: a file converts many crons of one zone."""
    offsets: set[timedelta] = set()
    # Monthly samples catch any DST period; 2100 checks the zone's rule for the far future.
    for y in [*range(this_year, this_year + 11), 2100]:
        for mo in range(1, 13):
            off = datetime(y, mo, 15, 12, tzinfo=UTC).astimezone(zone).utcoffset()
            assert off is not None
            offsets.add(off)
    return frozenset(offsets)


def _fmt_offset(off: timedelta) -> str:
    minutes = int(off.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _render(values: tuple[int, ...], i: int) -> str:
    """A set of values as a cron field: `*`, `3/4`, `1-5,9` (names in day-of-week)."""
    if values == _ALL[i]:
        return "*"
    if i != _DOW and len(values) >= 3 and (k := _step_of(values, _HI[i])) and values[0] < k:
        return f"{values[0]}/{k}"

    def w(v: int) -> str:
        return _DOW_NAMES[v - 1] if i == _DOW else str(v)

    return ",".join(spans(values, w, "-"))


def _month_lengths(months: tuple[int, ...], years: tuple[int, ...]) -> set[int]:
    """The lengths the listed months have in the listed years (February: 29 only in a leap year)."""
    out: set[int] = set()
    for mo in months:
        if mo == 2:
            out |= {29 if calendar.isleap(y) else 28 for y in years}
        else:
            out.add(calendar.monthrange(2001, mo)[1])
    return out


def to_utc_cron(expr: Expression, tz: str) -> Expression:
    """The UTC cron equivalent to `expr` written in local time of `tz` (a zone with one fixed offset).

    Minutes and hours are shifted; a shift across midnight moves day-of-week / day-of-month too.
    rate() does not depend on the zone and comes back unchanged; at() is moved to UTC.
    Raises ExpressionError for unknown zones, zones with DST, and shifts one UTC cron cannot express.
    """
    zone = _zone(tz)
    if expr.kind == "rate":
        return expr
    if expr.kind == "at":
        when = _at_datetime(expr.text).replace(tzinfo=zone).astimezone(UTC)
        return Expression("at", f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})")
    spec = _compile_cron(expr.text)
    canonical = "cron(" + " ".join(spec.fields) + ")"
    offset = _offset_minutes(zone, tz)
    if offset == 0:
        return Expression("cron", canonical)

    def fail(reason: str) -> ExpressionError:
        return ExpressionError(
            f"{canonical} in {tz} cannot be written as one UTC cron for an EventBridge rule: {reason}; "
            f"use `backend: scheduler`, which evaluates cron in {tz}"
        )

    # Shift every time of day; the results must again be "these minutes of these hours".
    pairs: set[tuple[int, int]] = set()
    carries: set[int] = set()
    for h in spec.hours:
        for m in spec.minutes:
            carry, minute_of_day = divmod(h * 60 + m - offset, 1440)
            carries.add(carry)
            pairs.add(divmod(minute_of_day, 60))
    new_hours = tuple(sorted({h for h, _ in pairs}))
    new_minutes = tuple(sorted({m for _, m in pairs}))
    if len(new_hours) * len(new_minutes) != len(pairs):
        raise fail("the shifted minutes differ from hour to hour")
    f = list(spec.fields)
    if offset % 60:
        f[_MIN] = _render(new_minutes, _MIN)
    f[_HOUR] = _render(new_hours, _HOUR)

    d = spec.days
    all_months, all_years = spec.months == _ALL[_MONTH], spec.years == _ALL[_YEAR]
    if len(carries) > 1:
        if not (d.kind == "all" and all_months and all_years):
            raise fail("some of its times cross midnight in UTC and others do not")
        carry = 0
    else:
        carry = carries.pop()
    if carry:
        day_desc = f"day-of-month `{spec.fields[_DOM]}`" if d.kind.startswith("dom") else ""
        day_desc = day_desc or f"day-of-week `{spec.fields[_DOW]}`"
        move = "the day before" if carry < 0 else "the day after"
        if d.kind == "all":
            if not (all_months and all_years):
                raise fail(f"its times move to {move} in UTC, which crosses month ends")
        elif d.kind == "dow":
            if not (all_months and all_years):
                raise fail(f"its times move to {move} in UTC, which crosses month ends")
            f[_DOW] = _render(tuple(sorted((v - 1 + carry) % 7 + 1 for v in d.values)), _DOW)
        elif d.kind == "dom" or d.kind == "dom_last":
            f[_DOM], f[_MONTH] = _shift_dom(spec, carry, fail)
        else:
            raise fail(f"its times move to {move} in UTC, and {day_desc} cannot be shifted by a day")
    return parse("cron(" + " ".join(f) + ")")


def _shift_dom(spec: _Cron, carry: int, fail: Callable[[str], ExpressionError]) -> tuple[str, str]:
    """Day-of-month and month fields after moving every day by `carry` (-1 or +1)."""
    d, months = spec.days, spec.months
    lengths = _month_lengths(months, spec.years)
    # A day that none of the months has never fires (`15,31` in April is 15): drop it before shifting,
    # or it would become day 32, or block a shift it has no part in.
    values = tuple(v for v in d.values if v <= max(lengths))
    month_wraps = (1 in months) if carry < 0 else (12 in months)
    # Day 1 -> last day of the previous month, and the last day -> day 1 of the next one.
    if (carry < 0 and d.kind == "dom" and values == (1,)) or (carry > 0 and d.kind == "dom_last"):
        if month_wraps and spec.years != _ALL[_YEAR]:
            raise fail("its times move across a year end in UTC while the year field is restricted")
        new_months = tuple(sorted((mo - 1 + carry) % 12 + 1 for mo in months))
        return ("L" if carry < 0 else "1"), _render(new_months, _MONTH)
    if d.kind == "dom_last":
        raise fail("the last day of the month would move to the day before it, and `L-1` is not supported")
    if carry < 0:
        if 1 in values:
            raise fail("day 1 would become the last day of the month before, which cannot share a list")
        # Local day d only exists when the month has d days, UTC day d-1 when it has d-1.
        bad = [v for v in values if v - 1 in lengths]
    else:
        bad = [v for v in values if v in lengths]  # the month's last day would move to the next month
    if bad:
        raise fail(f"day {bad[0]} does not move to a day of the same month in every month")
    return _render(tuple(v + carry for v in values), _DOM), spec.fields[_MONTH]
