"""Lanes and peaks: every schedule's fires over a window, and the minutes when many batches start at once.

A lane holds a schedule's fire times (UTC). A `rate()` has no known phase, so its lane is drawn as
evenly spaced marks from the window's start and it takes no part in peaks. Schedules that fire more than
once per 10 minutes are "frequent": they would join every peak, so they are listed apart instead.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from ecsched.insight import ticks
from ecsched.model import Schedule

FREQUENT = timedelta(minutes=10)
MIN_PEAK = 3


@dataclass
class Lane:
    schedule: Schedule
    fires: list[datetime]
    rate: timedelta | None = None  # rate(): the interval; fires are then evenly spaced guesses
    outcome: str | None = None  # the last run's outcome, when history is known

    @property
    def name(self) -> str:
        return self.schedule.name

    @property
    def enabled(self) -> bool:
        return self.schedule.enabled

    @property
    def frequent(self) -> bool:
        if self.rate is not None:
            return self.rate < FREQUENT
        gaps = [b - a for a, b in zip(self.fires, self.fires[1:], strict=False)]
        return bool(gaps) and min(gaps) < FREQUENT


@dataclass
class Peak:
    time: str  # local HH:MM
    names: tuple[str, ...]
    days: list[datetime] = field(default_factory=list)  # each occurrence (UTC)

    @property
    def count(self) -> int:
        return len(self.names)


def lanes(schedules: list[Schedule], start: datetime, end: datetime, *, cap: int = 20_000) -> list[Lane]:
    out = []
    for s in schedules:
        step = ticks.interval(s)
        if step is not None:
            n = min(cap, int((end - start) / step))
            out.append(Lane(s, [start + step * k for k in range(1, n + 1)], rate=step))
        else:
            out.append(Lane(s, ticks.fires(s, start, end, limit=cap)))
    return out


def peaks(all_lanes: list[Lane], tz: tzinfo, *, min_count: int = MIN_PEAK) -> list[Peak]:
    """Minutes when `min_count` or more enabled, non-frequent, non-rate schedules start, folded by local
    time and by who starts (a daily pile-up is one peak seen on each day). Largest first."""
    by_minute: dict[datetime, list[str]] = defaultdict(list)
    for lane in all_lanes:
        if not lane.enabled or lane.rate is not None or lane.frequent:
            continue
        for t in lane.fires:  # cron fire times are whole minutes already
            by_minute[t].append(lane.name)
    folded: dict[tuple[str, tuple[str, ...]], Peak] = {}
    for minute, names in sorted(by_minute.items()):
        if len(names) < min_count:
            continue
        key = (minute.astimezone(tz).strftime("%H:%M"), tuple(sorted(names)))
        peak = folded.setdefault(key, Peak(key[0], key[1]))
        peak.days.append(minute)
    return sorted(folded.values(), key=lambda p: (-p.count, p.time, p.names))


def describe(peak: Peak, tz_name: str, total_days: int, *, names: int = 8) -> str:
    """"03:00 Asia/Tokyo: 9 batches start within 1 minute: a, b, c… (every day)"."""
    shown = ", ".join(peak.names[:names]) + ("…" if peak.count > names else "")
    if len(peak.days) >= total_days and total_days > 1:
        when = "every day"
    else:
        when = ", ".join(d.strftime("%a %m-%d") for d in peak.days[:4]) + ("…" if len(peak.days) > 4 else "")
    return f"{peak.time} {tz_name}: {peak.count} batches start within 1 minute: {shown} ({when})"


def columns(fires: list[datetime], start: datetime, end: datetime, width: int) -> list[int]:
    """How many fires fall in each of `width` equal slices of the window."""
    counts = [0] * max(1, width)
    span = (end - start).total_seconds() or 1.0
    for t in fires:
        i = int((t - start).total_seconds() / span * width)
        if 0 <= i < width:
            counts[i] += 1
    return counts


def strip(counts: list[int]) -> str:
    """One character per column: a dot where nothing fires, a bar growing with the number of fires."""
    return "".join("·" if c == 0 else "│" if c == 1 else "┃" if c <= 3 else "▌" if c <= 7 else "█" for c in counts)


def day_ruler(start: datetime, end: datetime, width: int, tz: tzinfo) -> str:
    """Day labels (`Thu 03`) where each local day begins."""
    line = [" "] * width
    day = start.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    span = (end - start).total_seconds() or 1.0
    while day < end:
        day = day + timedelta(days=1)
        day = day.replace(hour=0, minute=0)  # after a DST change
        i = int((day - start).total_seconds() / span * width)
        label = "|" + day.strftime("%a %d")
        if 0 <= i < width:
            for k, ch in enumerate(label[: width - i]):
                line[i + k] = ch
    return "".join(line).rstrip()
