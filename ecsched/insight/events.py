"""Runs from the history log group: the "ECS Task State Change" events the `history:` rule delivers.

EventBridge delivers at least once and out of order, so the same task can appear several times with
the same or different `detail.version`: one Run per task ARN, from its highest version (the first seen
wins a tie). CloudWatch Logs' JSON filter patterns are not trusted (moto ignores them), so every event is
also checked here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from ecsched.insight.runs import Run, from_task

DETAIL_TYPE = "ECS Task State Change"


def parse(message: str) -> Run | None:
    """The Run in one log event's message, or None when it is not a stopped-task event."""
    try:
        event = json.loads(message)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("source") != "aws.ecs" or event.get("detail-type") != DETAIL_TYPE:
        return None
    detail = event.get("detail")
    if not isinstance(detail, dict) or detail.get("lastStatus") != "STOPPED" or not detail.get("taskArn"):
        return None
    return from_task(detail, source="history")


def dedupe(runs: Iterable[Run]) -> list[Run]:
    """One Run per task ARN: the highest detail.version; duplicates of one version count once."""
    best: dict[str, Run] = {}
    for r in runs:
        seen = best.get(r.task_arn)
        if seen is None or r.version > seen.version:
            best[r.task_arn] = r
    return list(best.values())


def messages(logs: Any, group: str, since: datetime, until: datetime) -> Iterator[str]:
    pager = logs.get_paginator("filter_log_events")
    for page in pager.paginate(logGroupName=group, startTime=int(since.timestamp() * 1000),
                               endTime=int(until.timestamp() * 1000),
                               filterPattern=f'"{DETAIL_TYPE}"'):
        for e in page.get("events") or []:
            yield str(e.get("message", ""))


def read(logs: Any, group: str, since: datetime, until: datetime) -> list[Run]:
    """Deduplicated runs stopped between `since` and `until` (by when the event was logged).
    A missing log group reads as no runs: history starts when `history:` is applied."""
    try:
        runs = [r for m in messages(logs, group, since, until) if (r := parse(m)) is not None]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return dedupe(runs)


def event(detail: dict[str, Any], *, account: str, region: str, time: str, event_id: str) -> dict[str, Any]:
    """An event in the shape EventBridge delivers it (for tests and the demo's sample history)."""
    return {"version": "0", "id": event_id, "detail-type": DETAIL_TYPE, "source": "aws.ecs", "account": account,
            "time": time, "region": region, "resources": [detail.get("taskArn", "")], "detail": detail}
