"""Cron expressions in words: "At 18:30 UTC every day", "on the last Friday of the month"."""

from __future__ import annotations

from collections.abc import Callable

from ecsched.expressions.fields import (
    _ALL,
    _DAY_WORDS,
    _HOUR,
    _MIN,
    _MONTH,
    _MONTH_WORDS,
    _ORDINALS,
    _YEAR,
    _Cron,
)


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

    return _join(spans(values, w, " through "))


def spans(values: tuple[int, ...], w: Callable[[int], str], through: str) -> list[str]:
    """Runs of 3 or more as `a{through}b`, other values one by one: 1,2,3,5 -> ["1-3", "5"]."""
    parts: list[str] = []
    for a, b in _runs(values):
        if b - a >= 2:
            parts.append(f"{w(a)}{through}{w(b)}")
        else:
            parts.extend(w(v) for v in range(a, b + 1))
    return parts


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

