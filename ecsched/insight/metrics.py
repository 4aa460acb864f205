"""EventBridge's per-rule metrics (namespace AWS/Events, dimension RuleName), through GetMetricData.

Three series per rule (TriggeredRules, Invocations, FailedInvocations), up to 500 queries per call, so a
status of N rules costs ceil(3N/500) calls (more only when an answer is paged). Best effort: AWS may
drop a datapoint, and Invocations and FailedInvocations are sent only when they are not zero.
"Invocations" means RunTask was called, not that the task succeeded.

EventBridge Scheduler publishes its metrics (AWS/Scheduler: InvocationAttemptCount, TargetErrorCount,
...) per schedule group only, never per schedule: they cannot say which schedule fired or failed, so they
are not used for a schedule's ticks. Its runs are seen through ECS and the history log group instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

METRICS = ("TriggeredRules", "Invocations", "FailedInvocations")
QUERIES_PER_CALL = 500

Series = dict[str, list[tuple[datetime, float]]]  # metric -> [(minute, sum)], oldest first


def _queries(rules: list[str], period: int) -> list[dict[str, Any]]:
    return [{"Id": f"m{i}_{k}", "ReturnData": True,
             "MetricStat": {"Metric": {"Namespace": "AWS/Events", "MetricName": metric,
                                       "Dimensions": [{"Name": "RuleName", "Value": rule}]},
                            "Period": period, "Stat": "Sum"}}
            for i, rule in enumerate(rules) for k, metric in enumerate(METRICS)]


def period_for(start: datetime, end: datetime) -> int:
    """1-minute sums for a window of up to 6 hours, 5-minute sums beyond (fewer datapoints to page
    through; a tick is still told apart from the next one unless they are under 10 minutes apart)."""
    return 60 if end - start <= timedelta(hours=6) else 300


def fetch(cloudwatch: Any, rules: Iterable[str], start: datetime, end: datetime, *, period: int | None = None,
          parallel: int = 8) -> dict[str, Series]:
    """rule -> metric -> datapoints between `start` and `end` (sums per `period`, see period_for)."""
    names = sorted(set(rules))
    period = period or period_for(start, end)
    queries = _queries(names, period)
    chunks = [queries[i:i + QUERIES_PER_CALL] for i in range(0, len(queries), QUERIES_PER_CALL)]
    out: dict[str, Series] = {n: {m: [] for m in METRICS} for n in names}

    def one(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"MetricDataQueries": chunk, "StartTime": start, "EndTime": end,
                                      "ScanBy": "TimestampAscending"}
            if token:
                kwargs["NextToken"] = token
            page = cloudwatch.get_metric_data(**kwargs)
            results += page.get("MetricDataResults") or []
            token = page.get("NextToken")
            if not token:
                return results

    if not chunks:
        return out
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(chunks)))) as pool:
        for results in pool.map(one, chunks):
            for res in results:
                i, k = (int(x) for x in str(res["Id"])[1:].split("_"))
                series = out[names[i]][METRICS[k]]
                series += [(t, float(v)) for t, v in zip(res.get("Timestamps") or [], res.get("Values") or [],
                                                         strict=False)]
    for series_by_metric in out.values():
        for series in series_by_metric.values():
            series.sort(key=lambda p: p[0])
    return out


def between(series: list[tuple[datetime, float]], lo: datetime, hi: datetime) -> float:
    """The sum of the datapoints with lo <= time <= hi."""
    return sum(v for t, v in series if lo <= t <= hi)


def latest(series: Series, metric: str = "TriggeredRules") -> datetime | None:
    points = [t for t, v in series.get(metric, []) if v > 0]
    return max(points) if points else None
