"""The last hour ECS keeps, and which schedule each task belongs to.

Calls: per cluster, ListTasks for RUNNING and for STOPPED (pages of 100), then DescribeTasks in batches
of 100: O(tasks/100), never one call per schedule. (Filtering ListTasks on `startedBy` would be one call
per schedule, and it cannot be combined with the status filter.)

Attribution: EventBridge starts a task with `startedBy` = `events-rule/<rule>`, the Scheduler with
`chronos-schedule/<name>` (and `ecsched run` with `ecsched/<rule>`: a run by hand, never taken for a
tick), and ECS keeps only the first 36 characters. Schedules whose names share those
36 characters all match; the tie is broken by the cluster, the task definition family, the task group
(when the schedule sets one) and the container overrides the task ran with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ecsched.insight.runs import Run, from_task
from ecsched.model import DEDUPE_ENV, Schedule, overrides, parse_overrides

STARTED_BY_LIMIT = 36
PREFIX = {"rules": "events-rule/", "scheduler": "chronos-schedule/"}


def started_by(s: Schedule) -> str:
    """What ECS shows in `startedBy` for a task this schedule started: cut at 36 characters."""
    return (PREFIX[s.backend] + s.name)[:STARTED_BY_LIMIT]


def manual_started_by(s: Schedule) -> str:
    """`startedBy` of a task `ecsched run` started for this schedule (a run by hand, not a tick)."""
    from ecsched.run.request import started_by as run_started_by

    return run_started_by(s.name)[:STARTED_BY_LIMIT]


def is_manual(run: Run) -> bool:
    return run.started_by.startswith("ecsched/")


# --- reading -------------------------------------------------------------------------------------


def list_task_arns(ecs: Any, cluster: str) -> list[str]:
    """Every task ARN of one cluster, running and stopped (paged by 100)."""
    arns: list[str] = []
    pager = ecs.get_paginator("list_tasks")
    for status in ("RUNNING", "STOPPED"):
        for page in pager.paginate(cluster=cluster, desiredStatus=status, PaginationConfig={"PageSize": 100}):
            arns += page.get("taskArns") or []
    return list(dict.fromkeys(arns))


def describe(ecs: Any, cluster: str, arns: list[str], parallel: int = 8) -> list[Run]:
    """DescribeTasks in batches of 100, concurrently."""
    batches = [arns[i:i + 100] for i in range(0, len(arns), 100)]
    if not batches:
        return []

    def one(batch: list[str]) -> list[dict[str, Any]]:
        return list(ecs.describe_tasks(cluster=cluster, tasks=batch).get("tasks") or [])

    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(batches)))) as pool:
        return [from_task(t) for tasks in pool.map(one, batches) for t in tasks]


def read_clusters(aws: Any, clusters: Iterable[tuple[str, str]], parallel: int = 8) -> list[Run]:
    """Runs of every (region, cluster ARN): each cluster listed, then described, side by side."""
    todo = sorted(set(clusters))

    def one(item: tuple[str, str]) -> list[Run]:
        region, cluster = item
        ecs = aws.client("ecs", region)
        try:
            arns = list_task_arns(ecs, cluster)
        except ecs.exceptions.ClusterNotFoundException:
            return []  # no cluster, no tasks: its schedules show no runs (and `diff` says what is wrong)
        return describe(ecs, cluster, arns, parallel)

    if not todo:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(todo)))) as pool:
        return [r for runs in pool.map(one, todo) for r in runs]


def mark_essential(aws: Any, runs: list[Run]) -> list[Run]:
    """Which containers are essential, for runs with several containers whose exit codes disagree: one
    DescribeTaskDefinition per distinct task definition, only for those (rare) runs."""
    need = sorted({r.task_definition_arn for r in runs if r.task_definition_arn and len(r.containers) > 1
                   and len({c.exit_code for c in r.containers}) > 1})
    essential: dict[str, set[str]] = {}
    for arn in need:
        region = arn.split(":")[3] if arn.count(":") >= 5 else None
        try:
            td = aws.client("ecs", region).describe_task_definition(taskDefinition=arn)["taskDefinition"]
        except Exception:  # best effort: unknown stays unknown (every container counts)
            continue
        essential[arn] = {str(c["name"]) for c in td.get("containerDefinitions") or [] if c.get("essential", True)}
    return [r.with_essential(essential[r.task_definition_arn]) if r.task_definition_arn in essential else r
            for r in runs]


# --- attribution ----------------------------------------------------------------------------------


@dataclass
class Attribution:
    by_schedule: dict[str, list[Run]] = field(default_factory=dict)
    ambiguous: list[tuple[Run, list[str]]] = field(default_factory=list)  # still tied after every tie-break
    unmatched: int = 0  # tasks no schedule started (services, manual runs)


def _family(arn: str) -> str:
    return arn.rsplit("/", 1)[-1].split(":", 1)[0]


def _shape(data: Any) -> tuple[Any, ...]:
    """Container overrides to compare, without the dedupe variables the scheduler adds."""
    cos, cpu, mem = parse_overrides(data)
    return tuple((c.name, c.command, tuple(e for e in c.environment if e[0] not in DEDUPE_ENV)) for c in cos), cpu, mem


def _narrow(run: Run, candidates: list[Schedule]) -> list[Schedule]:
    """Tie-breaks, each applied only when it keeps at least one candidate."""
    tests = (
        lambda s: s.target.cluster_arn == run.cluster_arn,
        lambda s: _family(s.target.task_definition_arn) == run.family,
        lambda s: s.target.group is None or s.target.group == run.group,
        lambda s: _shape(overrides(s.target)) == _shape(run.overrides),
    )
    for test in tests:
        if len(candidates) <= 1:
            break
        kept = [s for s in candidates if test(s)]
        if kept:
            candidates = kept
    return candidates


def attribute(runs: Iterable[Run], schedules: Iterable[Schedule]) -> Attribution:
    index: dict[str, list[Schedule]] = defaultdict(list)
    for s in schedules:
        index[started_by(s)].append(s)
        index[manual_started_by(s)].append(s)
    out = Attribution()
    for run in runs:
        candidates = index.get(run.started_by[:STARTED_BY_LIMIT], [])
        if not candidates:
            out.unmatched += 1
            continue
        chosen = _narrow(run, candidates)
        if len(chosen) == 1:
            out.by_schedule.setdefault(chosen[0].name, []).append(run)
        else:
            out.ambiguous.append((run, sorted(s.name for s in chosen)))
    return out
