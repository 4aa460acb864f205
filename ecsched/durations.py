"""Durations as people write them on the command line (`90`, `90s`, `5m`, `1h30m`, `1.5h`, `250ms`, `2d`),
and as ecsched prints them."""

from __future__ import annotations

import math
import re

from ecsched.errors import EcschedError

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h|d)")


def parse_duration(text: str, what: str = "duration", *, positive: bool = False) -> float:
    """Seconds. `positive` refuses 0 (a timeout of nothing is a mistake; a zero grace period is not)."""
    s = str(text).strip().lower()
    try:
        value = float(s)
    except ValueError:
        pos, value = 0, 0.0
        for m in _PART.finditer(s):
            if m.start() != pos:
                break
            value += float(m.group(1)) * _UNITS[m.group(2)]
            pos = m.end()
        if pos != len(s) or not s:
            raise EcschedError(
                f"{what}: {text!r} is not a duration; use e.g. 60s, 5m, 1h, 1h30m or plain seconds"
            ) from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise EcschedError(f"{what}: {text!r} must be a {'positive' if positive else 'non-negative'} duration")
    return value


def format_duration(seconds: float) -> str:
    """The one way ecsched prints a duration: `500ms`, `59s`, `2m5s`, `1h30m`, `1h1s`; the same units
    `parse_duration` reads, so a printed duration can be passed back as an option."""
    if 0 < seconds < 1:
        return f"{int(seconds * 1000)}ms"
    h, rest = divmod(max(0, round(seconds)), 3600)
    m, s = divmod(rest, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s else "") or "0s"
