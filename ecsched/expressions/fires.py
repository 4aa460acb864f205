"""Fire times: the matching wall-clock minutes of a compiled cron, walked field by field."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from ecsched.expressions.fields import ExpressionError, _Cron


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

