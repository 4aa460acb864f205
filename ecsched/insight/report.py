"""`status` and `history`'s facts: every source read once, then one ScheduleStatus per schedule.

Calls for N schedules and T recent tasks: 1 GetCallerIdentity (the ARNs), per cluster ListTasks for
RUNNING and STOPPED (ceil(T/100) pages each) and DescribeTasks (ceil(T/100)), GetMetricData
(ceil(3N/500)), and, with `history:`, FilterLogEvents pages over the last 25 hours.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ecsched.insight import events, flags, metrics, tasks, ticks
from ecsched.insight.common import Extras, zone
from ecsched.insight.flags import SLACK, Coverage, Flag
from ecsched.insight.runs import Run, iso, newest_first, to_json
from ecsched.model import Schedule

ECS_KEEPS = timedelta(hours=1)
HISTORY_LOOKBACK = timedelta(hours=25)
METRICS_MAX = timedelta(days=15)  # 1-minute datapoints are kept 15 days


@dataclass
class ScheduleStatus:
    schedule: Schedule
    extras: Extras
    next_fires: list[datetime]
    runs: list[Run]  # attributed, newest first
    last_tick: datetime | None = None
    missed: bool | None = None
    last_triggered: datetime | None = None
    flags: list[Flag] = field(default_factory=list)

    @property
    def running(self) -> list[Run]:
        return [r for r in self.runs if not r.stopped]

    @property
    def last_run(self) -> Run | None:
        return next((r for r in self.runs if r.stopped), None)

    @property
    def last_success(self) -> Run | None:
        return next((r for r in self.runs if r.outcome == "succeeded"), None)


@dataclass
class Sources:
    runs: list[Run]
    series: dict[tuple[str, str], metrics.Series]  # (region, rule) -> series
    coverage_metrics: datetime | None
    coverage_history: datetime | None
    ambiguous: list[tuple[Run, list[str]]]


def merge(runs: Iterable[Run]) -> list[Run]:
    """One Run per task ARN across sources: stopped beats running, then the higher event version, then
    the one with more times known."""
    best: dict[str, Run] = {}

    def rank(r: Run) -> tuple[int, int, int]:
        known = sum(x is not None for x in (r.created_at, r.started_at, r.stopped_at, r.pull_started_at))
        return int(r.stopped), r.version, known

    for r in runs:
        seen = best.get(r.task_arn)
        if seen is None or rank(r) > rank(seen):
            best[r.task_arn] = r
    return list(best.values())


def _metrics_start(schedules: list[Schedule], extras: dict[str, Extras], now: datetime) -> datetime:
    start = now - ECS_KEEPS
    for s in schedules:
        if s.backend != "rules" or not s.enabled:
            continue
        window = timedelta(seconds=extras[s.name].grace)
        step = ticks.interval(s)
        t = (now - step - window) if step is not None else ticks.last_fire(s, now - window)
        if t is not None:
            start = min(start, t - timedelta(minutes=2))
    return max(start, now - METRICS_MAX)


def read_sources(aws: Any, schedules: list[Schedule], extras: dict[str, Extras], now: datetime, *,
                 history_group: str | None, parallel: int = 8) -> Sources:
    """Tasks, history and metrics, read side by side (each is a chain of its own calls)."""
    from concurrent.futures import ThreadPoolExecutor

    clusters = {(s.region, s.cluster_arn) for s in schedules if s.cluster_arn}
    regions = sorted({s.region for s in schedules})
    by_region: dict[str, list[str]] = defaultdict(list)
    for s in schedules:
        if s.backend == "rules":
            by_region[s.region].append(s.name)
    start = _metrics_start(schedules, extras, now) if by_region else None
    history_since = now - HISTORY_LOOKBACK if history_group else None

    def history() -> list[Run]:
        if not history_group or history_since is None:
            return []
        return [r for region in regions
                for r in events.read(aws.client("logs", region), history_group, history_since, now)]

    def series() -> dict[tuple[str, str], metrics.Series]:
        out: dict[tuple[str, str], metrics.Series] = {}
        for region, names in sorted(by_region.items()):
            assert start is not None
            for name, ser in metrics.fetch(aws.client("cloudwatch", region), names, start, now,
                                           parallel=parallel).items():
                out[(region, name)] = ser
        return out

    with ThreadPoolExecutor(max_workers=3) as pool:
        live = pool.submit(tasks.read_clusters, aws, clusters, parallel)
        past = pool.submit(history)
        got = pool.submit(series)
        runs = live.result() + past.result()
        found = got.result()
    att = tasks.attribute(merge(runs), schedules)
    attributed = [r for rs in att.by_schedule.values() for r in rs]
    return Sources(attributed, found, start, history_since, att.ambiguous)


def build(schedules: list[Schedule], extras: dict[str, Extras], src: Sources, now: datetime,
          essential: Callable[[list[Run]], list[Run]] | None = None) -> list[ScheduleStatus]:
    """Every schedule's status from the sources read. `essential(runs)` marks essential containers."""
    att = tasks.attribute(src.runs, schedules)
    out: list[ScheduleStatus] = []
    lasts: dict[str, Run] = {}
    statuses: dict[str, ScheduleStatus] = {}
    for s in schedules:
        runs = newest_first(att.by_schedule.get(s.name, []))
        st = ScheduleStatus(s, extras[s.name], ticks.next_fires(s, 3, now) if s.enabled else [], runs)
        statuses[s.name] = st
        if st.last_run is not None:
            lasts[s.name] = st.last_run
        out.append(st)
    if essential is not None and lasts:
        marked = dict(zip(lasts, essential(list(lasts.values())), strict=True))
        for name, run in marked.items():
            st = statuses[name]
            st.runs = [run if r.task_arn == run.task_arn else r for r in st.runs]
    for st in out:
        s = st.schedule
        series = src.series.get((s.region, s.name)) if s.backend == "rules" else None
        period = timedelta(seconds=metrics.period_for(src.coverage_metrics, now)) if src.coverage_metrics else SLACK
        cov = Coverage(src.coverage_metrics if series is not None else None, now - ECS_KEEPS, src.coverage_history,
                       period)
        st.missed, st.last_tick, flag = flags.missed(s, st.runs, series, now, st.extras.grace, cov)
        st.last_triggered = metrics.latest(series) if series else None
        recent = [*st.running, *([st.last_run] if st.last_run else [])]
        found = [flag, flags.failed(st.last_run, st.last_tick, series, st.extras.grace, period),
                 flags.overlap(s, st.runs, now), flags.long(s, recent, now)]
        st.flags = [f for f in found if f is not None]
    return out


def to_json_row(st: ScheduleStatus, now: datetime, tz: str) -> dict[str, Any]:
    s = st.schedule
    text, written_zone = ticks.written(s)
    return {
        "name": s.name,
        "backend": s.backend,
        "region": s.region,
        "state": "ENABLED" if s.enabled else "DISABLED",
        "pauseReason": st.extras.pause_reason,
        "expression": text,
        "timezone": written_zone,
        "next": [{"utc": iso(t), "local": t.astimezone(zone(tz)[1]).isoformat()} for t in st.next_fires],
        "lastRun": to_json(st.last_run, now) if st.last_run else None,
        "running": [to_json(r, now) for r in st.running],
        "lastSuccess": to_json(st.last_success, now) if st.last_success else None,
        "lastTick": iso(st.last_tick),
        "tickSeen": None if st.missed is None else not st.missed,
        "lastTriggered": iso(st.last_triggered),
        "graceSeconds": st.extras.grace,
        "flags": [{"kind": f.kind, "message": f.message} for f in st.flags],
    }
