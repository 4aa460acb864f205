"""Cron fields: the tables, the parser of each field and the compiled form (`_Cron`, `_Days`)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal


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


_OUTER = re.compile(r"([A-Za-z]+)\((.*)\)", re.DOTALL)


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

