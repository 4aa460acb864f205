"""The four health flags of a schedule: missed, failed, overlap, long.

- missed: the last tick (at least `grace` ago) shows no sign of firing: no metric datapoint and no task
  begun within the grace period. Only judged where some source covers that tick: the rule's metrics,
  the last hour ECS keeps, or the history log group; otherwise it is unknown, never guessed.
- failed: the last run exited non-zero (an essential container) or failed to start, or EventBridge
  reported FailedInvocations for the last tick.
- overlap: more copies ran at the same time than the schedule's task count.
- long: the last run (or one running now) outlived the interval to the next tick.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ecsched.insight import metrics as m
from ecsched.insight import ticks
from ecsched.insight.runs import Run
from ecsched.model import Schedule

SLACK = timedelta(minutes=1)  # metrics are per minute; a task may be created a little before its tick's minute


@dataclass(frozen=True)
class Flag:
    kind: str  # missed | failed | overlap | long
    message: str


@dataclass(frozen=True)
class Coverage:
    """Since when each source can show a tick: None when the source is not there."""

    metrics: datetime | None  # rules: GetMetricData's start; None for Scheduler schedules
    ecs: datetime  # now - 1 hour: what ECS keeps
    history: datetime | None  # the history read's start, when `history:` is set
    period: timedelta = SLACK  # the metrics' period

    def covers(self, t: datetime) -> bool:
        return any(since is not None and t >= since for since in (self.metrics, self.ecs, self.history))


def _fmt(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC")


def _ago(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def tick_seen(t: datetime, window: timedelta, runs: Sequence[Run], series: m.Series | None,
              period: timedelta = SLACK) -> bool:
    """A sign of the tick at `t`: a metric datapoint whose period overlaps [t, t + window], or a task begun
    then. A datapoint is stamped with the start of its period, so it may be up to one period before `t`."""
    lo, hi = t - max(period, SLACK), t + window
    if series is not None and any(m.between(series.get(k, []), lo, hi) > 0 for k in m.METRICS):
        return True
    from ecsched.insight.tasks import is_manual

    return any(r.begin is not None and t - SLACK <= r.begin <= hi and not is_manual(r) for r in runs)


def missed(s: Schedule, runs: Sequence[Run], series: m.Series | None, now: datetime, grace: float,
           cov: Coverage) -> tuple[bool | None, datetime | None, Flag | None]:
    """(missed?, the tick judged, the flag). None: not judged (paused, no tick yet, or no source)."""
    if not s.enabled:
        return None, None, None
    window = timedelta(seconds=grace) + timedelta(minutes=s.flexible_window_minutes or 0)
    step = ticks.interval(s)
    if step is not None:  # rate(): no known phase; some sign of firing within one interval plus grace
        since = now - step - window
        if not cov.covers(since):
            return None, None, None
        seen = tick_seen(since, step + window, runs, series, cov.period)
        flag = None if seen else Flag("missed", f"no tick seen in the last {_ago((step + window).total_seconds())} "
                                                f"({s.expression})")
        return not seen, None, flag
    t = ticks.last_fire(s, now - window)
    if t is None or not cov.covers(t):
        return None, t, None
    seen = tick_seen(t, window, runs, series, cov.period)
    flag = None if seen else Flag("missed", f"the tick at {_fmt(t)} did not fire within {_ago(window.total_seconds())}")
    return not seen, t, flag


def failed(last: Run | None, tick: datetime | None, series: m.Series | None, grace: float,
           period: timedelta = SLACK) -> Flag | None:
    if last is not None and last.outcome == "failed":
        if last.stop_code == "TaskFailedToStart":
            return Flag("failed", f"failed to start: {last.stopped_reason or last.stop_code}")
        bad = [f"{c.name} exited {c.exit_code}" for c in last.essential if c.exit_code not in (None, 0)]
        return Flag("failed", "last run: " + ", ".join(bad))
    if tick is not None and series is not None:
        n = m.between(series.get("FailedInvocations", []), tick - max(period, SLACK), tick + timedelta(seconds=grace))
        if n > 0:
            return Flag("failed", f"EventBridge could not start the task at {_fmt(tick)} (FailedInvocations {n:g})")
    return None


def max_concurrent(runs: Sequence[Run], now: datetime) -> tuple[int, datetime | None]:
    """The most runs alive at one instant, and when. A run still going with no times counts as now."""
    points: list[tuple[datetime, int]] = []
    for r in runs:
        start = r.start or (now if not r.stopped else None)
        end = r.end(now)
        if start is None or end is None:
            continue
        if not r.stopped:  # still going: alive at `now` itself, so two running copies meet there
            end = max(end, start) + timedelta(microseconds=1)
        points += [(start, 1), (max(end, start), -1)]
    points.sort(key=lambda p: (p[0], p[1]))  # an end before a start at the same instant
    best, at, alive = 0, None, 0
    for t, d in points:
        alive += d
        if alive > best:
            best, at = alive, t
    return best, at


def overlap(s: Schedule, runs: Sequence[Run], now: datetime) -> Flag | None:
    n, at = max_concurrent(runs, now)
    if n > s.target.task_count and at is not None:
        return Flag("overlap", f"{n} copies ran at once at {_fmt(at)} (task count {s.target.task_count})")
    return None


def long(s: Schedule, candidates: Sequence[Run], now: datetime) -> Flag | None:
    for r in candidates:
        begin, end = r.begin, r.end(now)
        if begin is None or end is None:
            continue
        nxt = ticks.next_after(s, begin)
        if nxt is not None and end > nxt:
            verb = "is still running" if not r.stopped else "ran"
            return Flag("long", f"the run begun {_fmt(begin)} {verb} past the next tick at {_fmt(nxt)}")
    return None
