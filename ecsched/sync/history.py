"""The `history:` resources in a diff or an apply: the engine's side of ecsched.insight.sink.

- planned when the file has `history:`, or with --prune (a removed block's rule and Logs policy go; the
  log group stays, it holds the runs). Not with --rule: a selection names schedules, not the file's
  settings;
- the history rule is an event-pattern rule tagged with the trackingId, so a full --prune reads it with
  the schedules: `is_history_rule` keeps it out of the schedules' plan (it is never a schedule to delete);
- applied after the schedules, under the same lease. A log group or rule of that name that is not ours is
  refused before any history write; the schedules are applied all the same, as with a rule conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ecsched.aws import Cancelled
from ecsched.insight import sink
from ecsched.sync.options import SyncOptions
from ecsched.sync.read import Unread, describe

if TYPE_CHECKING:
    from ecsched.aws import Aws
    from ecsched.plan import Live
    from ecsched.sync.engine import Planned
    from ecsched.sync.scope import Scope

UNREAD = "history"  # the name an unreadable history plan is reported under

# What each history change calls, for apply's report.
CALLS = {("log-group", "create"): ("CreateLogGroup", "PutRetentionPolicy"),
         ("log-group", "update"): ("PutRetentionPolicy",), ("log-group", "delete"): ("DeleteLogGroup",),
         ("policy", "create"): ("PutResourcePolicy",), ("policy", "update"): ("PutResourcePolicy",),
         ("policy", "delete"): ("DeleteResourcePolicy",), ("rule", "create"): ("PutRule", "PutTargets"),
         ("rule", "update"): ("PutRule", "PutTargets"), ("rule", "delete"): ("RemoveTargets", "DeleteRule")}


@dataclass
class HistoryOutcome:
    """What apply did with the history resources: each change made, the refusals, and an error that
    stopped it part-way."""

    done: list[sink.Change] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    error: str | None = None


def is_history_rule(lv: Live) -> bool:
    """A live rule that is a history sink rule, not a schedule (it has an event pattern, no schedule)."""
    return lv.name.startswith(sink.RULE_PREFIX) and lv.schedule is None


def label(c: sink.Change) -> str:
    """How a history change is named in apply's report: `history rule ecsched-history-api`."""
    return f"history {c.resource} {c.name}"


def calls(c: sink.Change) -> tuple[str, ...]:
    return CALLS.get((c.resource, c.action), ())


def plan(scope: Scope, aws: Aws, opts: SyncOptions, seen: dict[str, dict[str, set[str]]] | None = None,
         ) -> sink.HistoryPlan | None:
    """The history plan of this run; None when the run has none (no block and no --prune, or --rule).
    `seen`: the history rules the schedules' full prune read (Planned.history_seen), not listed again."""
    if opts.rules or (scope.history is None and not opts.prune):
        return None
    owners = {(region, tid) for (_, region), tids in scope.owners.items() for tid in tids}
    return sink.plan_history(aws, scope.history, scope.desired, aws.account(), prune=opts.prune, owners=owners,
                             seen=seen)


def plan_into(planned: Planned, scope: Scope, aws: Aws, opts: SyncOptions) -> None:
    """`planned.history`; when it cannot be read, an `Unread` (the plan is incomplete, as for a rule)."""
    try:
        planned.history = plan(scope, aws, opts, planned.history_seen)
    except Cancelled:
        raise
    except Exception as e:
        planned.unread.append(Unread(UNREAD, describe(e)))


def apply(aws: Aws, hp: sink.HistoryPlan) -> HistoryOutcome:
    """Carry out `hp`. Nothing is written when any history resource is not ecsched's."""
    out = HistoryOutcome()
    if hp.conflicts:
        out.refused = hp.conflicts
        return out
    try:
        for d in hp.desired:
            out.done += sink.apply(aws, d, [c for dd, c in hp.changes if dd is d])
        for dd, c in hp.changes:
            if dd is None:
                sink.apply_prune(aws, [c])
                out.done.append(c)
    except Exception as e:  # reported; the next apply converges
        out.error = describe(e)
    return out
