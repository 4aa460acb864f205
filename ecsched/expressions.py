"""Schedule expressions of EventBridge rules and EventBridge Scheduler.

Parses and validates `cron()`, `rate()` and `at()`, computes fire times, describes them in words and
moves a local-time cron to UTC for rules. AWS validates these only when a rule is applied (moto never
does), so every documented rule is enforced here, with messages that name the field.

Semantics follow the AWS cron (a Quartz dialect): 6 fields, day-of-week 1-7 = SUN-SAT, `L`, `W`, `#`,
ranges that wrap around (`FRI-MON`, `22-2`) except in year.

Time zones (EventBridge Scheduler): cron fields are local wall-clock time. A local time that does not
exist (spring forward) is skipped; a local time that happens twice (fall back) fires once, at its first
occurrence. This is what AWS documents for Scheduler ("the invocation gets skipped" / "runs only once").
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = ["Expression", "ExpressionError", "parse", "to_utc_cron"]


class ExpressionError(ValueError):
    """`message` is a complete user-facing sentence; `field` names the cron field when relevant."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------------------------------------------
# Field tables (index = position in the cron)

_MIN, _HOUR, _DOM, _MONTH, _DOW, _YEAR = range(6)
_NAME = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
_LO = (0, 0, 1, 1, 1, 1970)
_HI = (59, 23, 31, 12, 7, 2199)
_RANGE = ("0-59", "0-23", "1-31", "1-12 (JAN-DEC)", "1-7 (SUN-SAT)", "1970-2199")
# Quartz rejects steps larger than these; a larger year step is as meaningless.
_MAX_STEP = (59, 23, 31, 12, 7, 229)
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DOW_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_NAMES: tuple[dict[str, int], ...] = (
    {},
    {},
    {},
    {n: i + 1 for i, n in enumerate(_MONTH_NAMES)},
    {n: i + 1 for i, n in enumerate(_DOW_NAMES)},
    {},
)
_ALL = tuple(tuple(range(_LO[i], _HI[i] + 1)) for i in range(6))
_FIELDS_TEXT = "minutes hours day-of-month month day-of-week year"
_MONTH_WORDS = (  # not calendar.month_name: that follows the process locale
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAY_WORDS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_ORDINALS = ("first", "second", "third", "fourth", "fifth")
_DAYS_1_TO = tuple(tuple(range(1, n + 1)) for n in range(32))  # _DAYS_1_TO[n] == (1, ..., n)


def _err(i: int, message: str) -> ExpressionError:
    return ExpressionError(message, _NAME[i])


# ---------------------------------------------------------------------------------------------------
# Public types


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


# ---------------------------------------------------------------------------------------------------
# Parsing

_OUTER = re.compile(r"([A-Za-z]+)\((.*)\)", re.DOTALL)
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


@dataclass(frozen=True, slots=True)
class _Days:
    """The day rule of a cron: exactly one of day-of-month / day-of-week is in use."""

    kind: Literal["all", "dom", "dom_last", "dom_lw", "dom_w", "dow", "dow_last", "dow_nth"]
    values: tuple[int, ...] = ()  # "dom": days; "dow": AWS weekdays (1 = SUN)
    n: int = 0  # "dom_w": the day; "dow_last"/"dow_nth": the AWS weekday
    k: int = 0  # "dow_nth": which occurrence

    def days_in(self, year: int, month: int) -> tuple[int, ...]:
        """The days of this month the rule matches, ascending."""
        first_wd, length = calendar.monthrange(year, month)  # Monday = 0
        kind = self.kind
        if kind == "all":
            return _DAYS_1_TO[length]
        if kind == "dom":
            return self.values if self.values[-1] <= length else tuple(d for d in self.values if d <= length)
        if kind == "dow":
            days: list[int] = []
            for a in self.values:
                days.extend(range(1 + ((a + 5) % 7 - first_wd) % 7, length + 1, 7))
            return tuple(sorted(days))
        if kind == "dom_last":
            return (length,)
        if kind == "dom_lw":
            wd = (first_wd + length - 1) % 7
            return (length - max(0, wd - 4),)  # Sat -> Fri, Sun -> Fri
        if kind == "dom_w":
            day = self.n
            if day > length:
                return ()
            wd = (first_wd + day - 1) % 7
            if wd == 5:  # Saturday: Friday before, unless that leaves the month
                return (day - 1,) if day > 1 else (day + 2,)
            if wd == 6:  # Sunday: Monday after, unless that leaves the month
                return (day + 1,) if day < length else (day - 2,)
            return (day,)
        if kind == "dow_last":
            last_wd = (first_wd + length - 1) % 7
            return (length - (last_wd - (self.n + 5) % 7) % 7,)
        day = 1 + ((self.n + 5) % 7 - first_wd) % 7 + 7 * (self.k - 1)  # dow_nth
        return (day,) if day <= length else ()


@dataclass(frozen=True, slots=True)
class _Cron:
    fields: tuple[str, ...]  # canonical tokens
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: _Days
    months: tuple[int, ...]
    years: tuple[int, ...]


def _compile_cron(text: str) -> _Cron:
    """The compiled form of a cron() text (canonical or not)."""
    m = _OUTER.fullmatch(text.strip())
    if m is None or m.group(1).lower() != "cron":
        raise ExpressionError(f"`{text}` is not a cron() expression")
    body = m.group(2).split()
    return _compile_fields(tuple(body), "cron(" + " ".join(body).upper() + ")")


@lru_cache(maxsize=4096)
def _compile_fields(raw: tuple[str, ...], canonical: str) -> _Cron:
    if len(raw) != 6:
        raise ExpressionError(f"cron() needs 6 fields ({_FIELDS_TEXT}), got {len(raw)}")
    f = tuple(t.upper() for t in raw)
    minutes = _plain(_MIN, f[_MIN])
    hours = _plain(_HOUR, f[_HOUR])
    dom = _dom(f[_DOM])
    months = _plain(_MONTH, f[_MONTH])
    dow = _dow(f[_DOW])
    years = _plain(_YEAR, f[_YEAR])
    if (dom is None) == (dow is None):
        raise ExpressionError("exactly one of day-of-month and day-of-week must be `?`")
    days = dom or dow
    assert days is not None
    spec = _Cron(f, minutes, hours, days, months, years)
    if not _ever_fires(spec):
        i = _DOM if dom else _DOW
        where = f" in year `{f[_YEAR]}`" if f[_YEAR] != "*" else ""
        raise ExpressionError(
            f"{canonical} never fires: {_NAME[i]} `{f[i]}` never falls in month `{f[_MONTH]}`{where}",
            _NAME[i],
        )
    return spec


@lru_cache(maxsize=1024)
def _plain(i: int, text: str) -> tuple[int, ...]:
    """A field made of values, ranges, steps and lists; sorted distinct values."""
    if text == "*":
        return _ALL[i]
    values: set[int] = set()
    for part in text.split(","):
        values.update(_part(i, part, text))
    return tuple(sorted(values))


def _part(i: int, part: str, whole: str) -> list[int]:
    name, lo, hi = _NAME[i], _LO[i], _HI[i]
    if not part:
        raise _err(i, f"{name} `{whole}` has an empty list item")
    base, slash, step_s = part.partition("/")
    step = 1
    if slash:
        if i == _DOW:
            raise _err(i, f"day-of-week `{whole}`: `/` is not allowed in day-of-week (use , - * ? L #)")
        if not (step_s.isascii() and step_s.isdigit()):
            raise _err(i, f"{name} `{whole}`: the step after `/` must be a whole number")
        step = int(step_s)
        if not 1 <= step <= _MAX_STEP[i]:
            raise _err(i, f"{name} step `/{step_s}` is out of range 1-{_MAX_STEP[i]}")
    if base == "*":
        return list(range(lo, hi + 1, step))
    a_s, dash, b_s = base.partition("-")
    a = _value(i, a_s, whole)
    if not dash:
        return list(range(a, hi + 1, step)) if slash else [a]
    b = _value(i, b_s, whole)
    if a <= b:
        return list(range(a, b + 1, step))
    if i == _YEAR:
        raise _err(i, f"year range `{base}` must go from the lower to the higher year")
    return (list(range(a, hi + 1)) + list(range(lo, b + 1)))[::step]  # wraps around, as in Quartz


def _value(i: int, tok: str, whole: str) -> int:
    name = _NAME[i]
    if not tok:
        raise _err(i, f"{name} `{whole}` is not valid: a range needs a value on each side of `-`")
    if tok.isascii() and tok.isdigit():
        v = int(tok)
    elif tok in _NAMES[i]:
        v = _NAMES[i][tok]
    elif tok == "?":
        raise _err(i, f"{name} `?` is not allowed: `?` only works in day-of-month and day-of-week")
    elif i in (_DOM, _DOW) and any(c in whole for c in "LW#"):
        raise _err(i, f"{name} `{whole}`: `L`, `W` and `#` must stand alone (e.g. `L`, `15W`, `6L`, `3#2`)")
    else:
        raise _err(i, f"{name} `{tok}` is not a valid value ({_RANGE[i]})")
    if not _LO[i] <= v <= _HI[i]:
        raise _err(i, f"{name} `{tok}` is out of range {_RANGE[i]}")
    return v


_NTH_W = re.compile(r"(\d+)W")


@lru_cache(maxsize=256)
def _dom(text: str) -> _Days | None:
    if text == "?":
        return None
    if text == "L":
        return _Days("dom_last")
    if text == "LW":
        return _Days("dom_lw")
    if text.startswith("L-"):
        raise _err(_DOM, f"day-of-month `{text}` is not supported by EventBridge: use `L` for the last day")
    m = _NTH_W.fullmatch(text)
    if m:
        return _Days("dom_w", n=_value(_DOM, m.group(1), text))
    if "?" in text:
        raise _err(_DOM, f"day-of-month `{text}`: `?` must stand alone")
    values = _plain(_DOM, text)
    return _Days("all") if values == _ALL[_DOM] else _Days("dom", values)


@lru_cache(maxsize=256)
def _dow(text: str) -> _Days | None:
    if text == "?":
        return None
    if text == "L":  # Quartz: a bare L in day-of-week is its last day, Saturday
        return _Days("dow", (7,))
    if "#" in text:
        if "," in text:
            raise _err(_DOW, f"day-of-week `{text}`: only one `#` expression is allowed, not in a list")
        day_s, _, k_s = text.partition("#")
        if "-" in day_s or not (k_s.isascii() and k_s.isdigit()):
            raise _err(
                _DOW, f"day-of-week `{text}` is not valid: write weekday#n, e.g. `3#2` for the 2nd Tuesday"
            )
        day = _value(_DOW, day_s, text)
        if not 1 <= int(k_s) <= 5:
            raise _err(_DOW, f"day-of-week `{text}`: the number after `#` must be 1-5")
        return _Days("dow_nth", n=day, k=int(k_s))
    if len(text) > 1 and text.endswith("L") and not any(c in text for c in ",-/*"):
        return _Days("dow_last", n=_value(_DOW, text[:-1], text))
    if "?" in text:
        raise _err(_DOW, f"day-of-week `{text}`: `?` must stand alone")
    values = _plain(_DOW, text)
    return _Days("all") if values == _ALL[_DOW] else _Days("dow", values)


def _ever_fires(spec: _Cron) -> bool:
    d = spec.days
    # Every month has days 1-28, a last day, each weekday 4 times: these rules always match.
    if (
        d.kind in ("all", "dow", "dom_last", "dom_lw", "dow_last")
        or (d.kind == "dom" and d.values[0] <= 28)
        or (d.kind == "dom_w" and d.n <= 28)
        or (d.kind == "dow_nth" and d.k <= 4)
    ):
        return True
    return any(d.days_in(y, mo) for y in spec.years for mo in spec.months)


# ---------------------------------------------------------------------------------------------------
# Fire times


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (KeyError, ValueError, OSError, TypeError):  # not found is a KeyError; bad keys ValueError
        pass
    raise ExpressionError(f"unknown time zone `{tz}`: use an IANA name such as `Asia/Tokyo` or `UTC`")


def _iter_local(spec: _Cron, start: datetime) -> Iterator[datetime]:
    """Matching naive wall-clock minutes >= start, ascending; walks the field sets, never minute by minute."""
    sy, smo, sd, sh, smi = start.year, start.month, start.day, start.hour, start.minute
    years = spec.years
    for y in years[bisect_left(years, sy) :]:
        first_y = y == sy
        for mo in spec.months:
            if first_y and mo < smo:
                continue
            first_mo = first_y and mo == smo
            for d in spec.days.days_in(y, mo):
                if first_mo and d < sd:
                    continue
                first_d = first_mo and d == sd
                for h in spec.hours:
                    if first_d and h < sh:
                        continue
                    first_h = first_d and h == sh
                    for mi in spec.minutes:
                        if first_h and mi < smi:
                            continue
                        yield datetime(y, mo, d, h, mi)


# ---------------------------------------------------------------------------------------------------
# Describing


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _runs(values: tuple[int, ...]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for v in values:
        if out and out[-1][1] == v - 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return out


def _words(values: tuple[int, ...], word: list[str] | tuple[str, ...] | None = None) -> str:
    """1,2,3,5 -> "1 through 3 and 5" (with names when `word` is given)."""

    def w(v: int) -> str:
        return word[v - 1] if word else str(v)

    parts: list[str] = []
    for a, b in _runs(values):
        if b - a >= 2:
            parts.append(f"{w(a)} through {w(b)}")
        else:
            parts.extend(w(v) for v in range(a, b + 1))
    return _join(parts)


def _step_of(values: tuple[int, ...], hi: int) -> int:
    """k when values are start, start+k, ... up to the field's end (k > 1), else 0."""
    if len(values) < 2:
        return 0
    k = values[1] - values[0]
    return k if k > 1 and values == tuple(range(values[0], hi + 1, k)) else 0


def _describe_cron(spec: _Cron, tz: str) -> str:
    mins, hours = spec.minutes, spec.hours
    tz_said = False
    if len(mins) * len(hours) <= 6:
        time = "At " + _join([f"{h:02d}:{m:02d}" for h in hours for m in mins]) + f" {tz}"
        tz_said = True
    else:
        if mins == _ALL[_MIN]:
            time = "Every minute"
        elif len(mins) == 1:
            time = f"At minute {mins[0]}"
        elif k := _step_of(mins, 59):
            time = f"Every {k} minutes" + (f" starting at minute {mins[0]}" if mins[0] else "")
        else:
            time = f"At minutes {_words(mins)}"
        if hours == _ALL[_HOUR]:
            time += " of every hour" if time.startswith("At minute ") else ""
        elif hours[-1] - hours[0] == len(hours) - 1:
            prefix = " of every hour" if time.startswith("At minute ") else ""
            first, last = f"{hours[0]:02d}:{mins[0]:02d}", f"{hours[-1]:02d}:{mins[-1]:02d}"
            time += f"{prefix} from {first} through {last} {tz}"
            tz_said = True
        else:
            time += f" during hours {_words(hours)} {tz}"
            tz_said = True
    d = spec.days
    if d.kind == "all":
        day = "" if time.startswith("Every") or time.endswith("every hour") else "every day"
    elif d.kind == "dom":
        day = f"on day{'s' if len(d.values) > 1 else ''} {_words(d.values)} of the month"
    elif d.kind == "dom_last":
        day = "on the last day of the month"
    elif d.kind == "dom_lw":
        day = "on the last weekday of the month"
    elif d.kind == "dom_w":
        day = f"on the weekday nearest day {d.n} of the month"
    elif d.kind == "dow":
        day = "on " + _words(d.values, _DAY_WORDS)
    elif d.kind == "dow_last":
        day = f"on the last {_DAY_WORDS[d.n - 1]} of the month"
    else:
        day = f"on the {_ORDINALS[d.k - 1]} {_DAY_WORDS[d.n - 1]} of the month"
    parts = [time, day]
    if spec.months != _ALL[_MONTH]:
        parts.append("in " + _words(spec.months, _MONTH_WORDS))
    if spec.years != _ALL[_YEAR]:
        parts.append("in " + _words(spec.years))
    text = " ".join(p for p in parts if p)
    return text if tz_said else f"{text} ({tz})"


# ---------------------------------------------------------------------------------------------------
# Local cron -> UTC cron (EventBridge rules only run in UTC)


def _offset_minutes(zone: ZoneInfo, tz: str) -> int:
    """The zone's one UTC offset from this year on, in minutes; ExpressionError if it changes (DST)."""
    this_year = datetime.now(UTC).year
    offsets: set[timedelta] = set()
    # Monthly samples catch any DST period; 2100 checks the zone's rule for the far future.
    for y in [*range(this_year, this_year + 11), 2100]:
        for mo in range(1, 13):
            off = datetime(y, mo, 15, 12, tzinfo=UTC).astimezone(zone).utcoffset()
            assert off is not None
            offsets.add(off)
    if len(offsets) > 1:
        shown = " and ".join(sorted(_fmt_offset(o) for o in offsets))
        raise ExpressionError(
            f"time zone `{tz}` changes its UTC offset during the year ({shown}, daylight saving time), so a "
            f"cron in {tz} cannot be one UTC cron for an EventBridge rule; use `backend: scheduler`, which "
            f"evaluates cron in the time zone"
        )
    return int(offsets.pop().total_seconds()) // 60


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

    parts: list[str] = []
    for a, b in _runs(values):
        if b - a >= 2:
            parts.append(f"{w(a)}-{w(b)}")
        else:
            parts.extend(w(v) for v in range(a, b + 1))
    return ",".join(parts)


_MONTH_LENGTHS = {1: {31}, 2: {28, 29}, 3: {31}, 4: {30}, 5: {31}, 6: {30}}
_MONTH_LENGTHS |= {7: {31}, 8: {31}, 9: {30}, 10: {31}, 11: {30}, 12: {31}}


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
    lengths = set().union(*(_MONTH_LENGTHS[mo] for mo in months))
    month_wraps = (1 in months) if carry < 0 else (12 in months)
    # Day 1 -> last day of the previous month, and the last day -> day 1 of the next one.
    if (carry < 0 and d.kind == "dom" and d.values == (1,)) or (carry > 0 and d.kind == "dom_last"):
        if month_wraps and spec.years != _ALL[_YEAR]:
            raise fail("its times move across a year end in UTC while the year field is restricted")
        new_months = tuple(sorted((mo - 1 + carry) % 12 + 1 for mo in months))
        return ("L" if carry < 0 else "1"), _render(new_months, _MONTH)
    if d.kind == "dom_last":
        raise fail("the last day of the month would move to the day before it, and `L-1` is not supported")
    if carry < 0:
        if 1 in d.values:
            raise fail("day 1 would become the last day of the month before, which cannot share a list")
        # Local day d only exists when the month has d days, UTC day d-1 when it has d-1.
        bad = [v for v in d.values if v - 1 in lengths]
    else:
        bad = [v for v in d.values if v in lengths]  # the month's last day would move to the next month
    if bad:
        raise fail(f"day {bad[0]} does not move to a day of the same month in every month")
    return _render(tuple(v + carry for v in d.values), _DOM), spec.fields[_MONTH]
