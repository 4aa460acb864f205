"""RunTask, made safe to retry.

One clientToken per run, so every retry of the call (botocore's and ours) is idempotent on AWS: a
request that committed but whose answer was lost (a 5xx after the write, a reset) returns the same task
when sent again. Before ecsched sends it again it also looks for the task by `startedBy`, created since
the first attempt, so that a lost answer never reads as "could not start" while the task runs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ecsched.run.codes import NotStarted
from ecsched.run.output import Output
from ecsched.run.retry import backoff, explain, is_transient, may_have_committed

RUNTASK_ATTEMPTS = 3  # ecsched's own tries (each with botocore's retries), with a lookup before each retry
RETRY_BASE = 2.0  # seconds
CLOCK_SKEW = timedelta(seconds=30)  # AWS's createdAt against our clock, when matching a found task


@dataclass
class Started:
    tasks: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    found_by_started_by: bool = False


def start_tasks(ecs: Any, request: dict[str, Any], out: Output, *,
                sleep: Callable[[float], None] = time.sleep, retry_base: float = RETRY_BASE,
                now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Started:
    """RunTask `request` once, whatever happens to the answers. Raises NotStarted only when no task was
    started, or, saying so, when ecsched cannot tell."""
    req = dict(request, clientToken=str(uuid.uuid4()))
    sent_at = now()
    unknown = False  # a try may have started the task, and no lookup could rule it out
    last: Exception | None = None
    for attempt in range(1, RUNTASK_ATTEMPTS + 1):
        try:
            resp = ecs.run_task(**req)
        except Exception as e:
            if not is_transient(e):
                if last is not None and unknown:
                    raise NotStarted(_unknown(request, last, e)) from e
                raise NotStarted(explain(e) if type(e).__module__.startswith("botocore")
                                 else f"RunTask failed: {e}") from e
            last = e
            unknown = unknown or may_have_committed(e)
        else:
            return Started(tasks=list(resp.get("tasks") or []),
                           failures=[dict(f) for f in resp.get("failures") or []])
        if unknown:
            try:
                found = find_started(ecs, request, sent_at)
            except Exception as e:
                if not is_transient(e) and not type(e).__module__.startswith("botocore"):
                    raise
                out.warn(f"RunTask's answer was lost ({explain(last)}), and looking for the task failed too "
                         f"({explain(e)})")
                found = []
            else:
                unknown = False  # the lookup answered: the tries so far started nothing (yet)
            if found:
                out.note(f"ecsched: RunTask's answer was lost ({explain(last)}); found the task by "
                         f"startedBy {request.get('startedBy')}")
                return Started(tasks=found, found_by_started_by=True)
        if attempt < RUNTASK_ATTEMPTS:
            out.warn(f"{explain(last)}; trying again with the same clientToken")
            sleep(backoff(attempt, retry_base))
    assert last is not None
    if unknown:
        raise NotStarted(_unknown(request, last, None))
    raise NotStarted(f"{explain(last)}; no task with startedBy {request.get('startedBy')} was started")


def _unknown(request: dict[str, Any], last: Exception, final: Exception | None) -> str:
    more = f" (then: {explain(final)})" if final is not None else ""
    return (f"RunTask's answer was lost ({explain(last)}){more}, and ecsched cannot tell whether the task "
            f"started: look for it with `aws ecs list-tasks --cluster {request.get('cluster')} "
            f"--started-by {request.get('startedBy')}`")


def find_started(ecs: Any, request: dict[str, Any], since: datetime) -> list[dict[str, Any]]:
    """Tasks of this request that appeared since `since`: ListTasks by startedBy (AWS allows no other
    filter with it, so RUNNING ones: the lookup follows the lost answer within seconds), DescribeTasks,
    the same task-definition family, newest `count` first."""
    cluster, by = request["cluster"], request.get("startedBy")
    if not by:
        return []
    found: list[str] = []
    for page in ecs.get_paginator("list_tasks").paginate(cluster=cluster, startedBy=by):
        found += page.get("taskArns") or []
    tasks: list[dict[str, Any]] = []
    for i in range(0, len(found), 100):
        tasks += ecs.describe_tasks(cluster=cluster, tasks=found[i:i + 100]).get("tasks") or []
    family = _family(str(request.get("taskDefinition", "")))
    # AWS always sets createdAt; an emulator may not, and then the task cannot be ruled out.
    mine = [t for t in tasks if _family(str(t.get("taskDefinitionArn", ""))) == family
            and (not isinstance(t.get("createdAt"), datetime) or t["createdAt"] >= since - CLOCK_SKEW)]
    mine.sort(key=lambda t: t.get("createdAt") or since, reverse=True)
    return mine[: int(request.get("count") or 1)]


def _family(task_definition: str) -> str:
    """`task1` of `task1`, `task1:3` or `arn:...:task-definition/task1:3`."""
    return task_definition.rsplit("/", 1)[-1].split(":", 1)[0]
