"""Compute and apply: file -> model, AWS -> model, (model, model) -> plan, then the writes.

`compute` reads everything in scope, then plans. `apply` plans each rule as soon as its live state has
been read and writes it at once, so that reads and writes (separate API quotas) overlap. Both walk the
groups (backend, region) with the one loop below. A rule whose live state cannot be read is left out of
the plan and reported (`Planned.unread`); the others go on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecsched.model import Schedule
from ecsched.plan import Change, Live, Plan, make_plan
from ecsched.sync.early import EarlyRead
from ecsched.sync.options import Sink, Source, SyncOptions
from ecsched.sync.read import Unread, describe, read_live
from ecsched.sync.scope import Scope, check_patterns, make_scope, plan_options

if TYPE_CHECKING:
    from ecsched.aws import Aws
    from ecsched.changed import Changes
    from ecsched.config import Config


@dataclass
class Planned:
    plan: Plan
    desired: list[Schedule]
    live: dict[str, Live]
    changes_since: Changes | None = None
    unread: list[Unread] = field(default_factory=list)  # rules left out of the plan: their read failed


# The outcome of one change in `apply`: the calls made, or the error in a sentence.
Result = tuple[Change, list[str], str | None]
# Called with each change as soon as it is known (apply writes it at once).
OnChange = Callable[[Any, Change], None]
# Called with each live rule as it is read, and the file's schedule of that name (None: not in the file).
OnRead = Callable[[Live, Schedule | None], None]
# Holds the lease for the run (see ecsched.sync.lease), given the loaded config and the run's AWS.
Hold = Callable[["Config", "Aws"], AbstractContextManager[object]]


def run_aws(source: Source, opts: SyncOptions) -> Aws:
    """The run's Aws, paced by the quota and sized for the parallelism."""
    aws = source.aws(source.config().region)
    aws.configure(quota=opts.quota, parallel=opts.parallel)
    return aws


def prepare(source: Source, opts: SyncOptions, sink: Sink, *,
            locking: bool = False) -> tuple[EarlyRead | None, Aws, Scope]:
    """Start the early read, then load, validate and resolve the config (which may fail: stop the read).
    `locking`: the run will hold a lease, so a config with a lockTable is read only once it is held."""
    reader = EarlyRead.start(source, opts, unless_locked=locking)
    try:
        aws = run_aws(source, opts)
        return reader, aws, make_scope(source, opts, aws, sink)
    except BaseException:
        if reader is not None:
            reader.cancel()
        raise


def walk(scope: Scope, aws: Aws, opts: SyncOptions, early: EarlyRead | None,
         on_change: OnChange | None = None, on_read: OnRead | None = None) -> Planned:
    """Read each group's live state and plan it. `on_change` gets each rule's change as soon as its live
    state is read, then the group's creates (no live rule to wait for). `on_read` gets each live rule as it
    is read, while the rest are still on their way (a view can prepare its output meanwhile)."""
    from ecsched.backends import get_backend

    planned = Planned(plan=Plan(), desired=scope.desired, live={}, changes_since=scope.changes_since)
    for key, group in scope.groups.items():
        backend_name, region = key
        backend = get_backend(backend_name, aws, region, parallel=opts.parallel)
        names = scope.names_to_read(key)
        if not names and not scope.full_prune:
            continue  # nothing to read: not even the rule list
        arns = scope.cluster_arns(key)
        by_name = {s.name: s for s in group}
        owners = {s.tracking_id for s in group} | scope.owners.get(key, set())
        got = early.take(backend_name, region, names, arns, scope.full_prune) if early else None
        live: dict[str, Live] = {}
        unread: list[Unread] = []
        for item in got if got is not None else read_live(backend, names, arns, scope.full_prune, owners):
            if isinstance(item, Unread):
                unread.append(item)
                continue
            live[item.name] = item
            if on_read is not None:
                on_read(item, by_name.get(item.name))
            if on_change is not None:
                ch = _change_of(item, by_name.get(item.name), scope, opts, owners)
                if ch is not None:
                    on_change(backend, ch)
        gaps = {u.name for u in unread}
        readable = [s for s in group if s.name not in gaps]  # never "create" a rule we could not read
        sub = make_plan(readable, live, selected=scope.selected, prune=opts.prune, adopt=opts.adopt,
                        owners=scope.owners.get(key), **plan_options(opts))
        changes = guard_migrated(aws, backend_name, region, opts.parallel, sub.changes)
        if on_change is not None:
            for ch in changes:
                if ch.action == "create":
                    on_change(backend, ch)
        planned.live.update(live)
        planned.unread += unread
        planned.plan.changes += changes
    if opts.prune and opts.rules:  # now that AWS is read: a pattern naming nothing at all is an error
        check_patterns(opts, [s.name for s in scope.desired], list(planned.live))
    return planned


def _change_of(lv: Live, s: Schedule | None, scope: Scope, opts: SyncOptions, owners: set[str]) -> Change | None:
    """The change for one live rule, as the group's plan will have it."""
    if s is not None and s.name in scope.selected:
        return make_plan([s], {lv.name: lv}, selected={s.name}, adopt=opts.adopt).changes[0]
    if s is None and opts.prune:
        changes = make_plan([], {lv.name: lv}, prune=True, owners=owners, **plan_options(opts)).changes
        return changes[0] if changes and changes[0].action == "delete" else None
    return None


def compute(source: Source, opts: SyncOptions, sink: Sink, *, on_read: OnRead | None = None) -> Planned:
    """Read the live state of everything in scope, then plan. `--changed-since` narrows the scope."""
    early, aws, scope = prepare(source, opts, sink)
    return walk(scope, aws, opts, early, on_read=on_read)


def guard_migrated(aws: Aws, backend_name: str, region: str, parallel: int, changes: list[Change]) -> list[Change]:
    """A rule to create whose schedule already runs on EventBridge Scheduler (it was migrated, and the file
    predates that) is a conflict: creating it would run the task twice."""
    creates = {c.name: c for c in changes if c.action == "create" and c.desired is not None}
    if backend_name != "rules" or not creates:
        return changes
    from ecsched.backends.scheduler import SchedulerBackend

    scheduler = SchedulerBackend(aws, region, parallel=parallel)
    scheduler.guard_rules = False
    try:
        live = scheduler.read(set(creates), set(), prune=False)
    except Exception:  # no Scheduler permission or endpoint: nothing can have been migrated there
        return changes
    out = []
    for c in changes:
        lv = live.get(c.name) if c.name in creates else None
        if lv is not None and c.desired is not None and lv.tracking_id == c.desired.tracking_id:
            group = lv.schedule.schedule_group if lv.schedule else "its group"
            c = Change("conflict", c.name, desired=c.desired, backend="rules",
                       reason=f"schedule {group}/{c.name} on EventBridge Scheduler already runs this task (it was "
                              "migrated): set `backend: scheduler` for it in the file")
        out.append(c)
    return out


def apply(source: Source, opts: SyncOptions, sink: Sink, *, on_result: Callable[[Result], None] | None = None,
          hold: Hold | None = None, on_read: OnRead | None = None) -> tuple[Planned, list[Result]]:
    """Plan and carry out the changes, each as soon as its rule's live state is known.

    Returns the plan (in the same order as `compute`'s) and one result per actionable change, in plan
    order. A change that fails is reported in its result and the others go on; the next apply converges.
    `on_result` is called as each change completes (from worker threads, one at a time). `hold`, when
    given, holds the run's lease from before the first read until the last write.
    """
    early, aws, scope = prepare(source, opts, sink, locking=hold is not None)
    results: dict[tuple[str, str], Result] = {}
    report_lock = threading.Lock()
    order = {s.name: i for i, s in enumerate(scope.desired)}
    lease = hold(source.config(), aws) if hold is not None else nullcontext()
    with lease, ThreadPoolExecutor(max_workers=opts.parallel, thread_name_prefix="ecsched-apply") as writers:
        pending: list[Future[None]] = []

        def submit(backend: Any, ch: Change) -> None:
            if ch.action not in ("create", "update", "delete"):
                return

            def run() -> None:
                result = _apply_one(backend, ch)
                with report_lock:
                    results[(ch.backend, ch.name)] = result
                    if on_result is not None:
                        on_result(result)

            pending.append(writers.submit(run))

        read_error: BaseException | None = None
        planned: Planned | None = None
        try:
            planned = walk(scope, aws, opts, early, on_change=submit, on_read=on_read)
        except Exception as e:  # failed part-way: finish and report the writes already sent
            read_error = e
        for f in pending:
            f.result()
    ordered = sorted(results.values(), key=lambda r: (r[0].action == "delete", order.get(r[0].name, 0), r[0].name))
    if read_error is not None or planned is None:
        raise ApplyInterrupted(ordered, read_error or RuntimeError("no plan"))
    return planned, ordered


class ApplyInterrupted(Exception):
    """The apply stopped part-way (not one rule's read: all of it); `results` are the writes already made."""

    def __init__(self, results: list[Result], cause: BaseException) -> None:
        super().__init__(str(cause))
        self.results = results
        self.cause = cause


def _apply_one(backend: Any, ch: Change) -> Result:
    try:
        return ch, backend.apply(ch), None
    except Exception as e:  # reported per rule; the next apply converges
        return ch, [], describe(e)
