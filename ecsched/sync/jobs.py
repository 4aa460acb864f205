"""The engine's hooks for sqsjkr job rules (a rule whose target is an SQS queue: ecsched.sqsjkr).

- `queue_notes`: what `diff` warns about, per job rule: the queue does not exist; on the rules backend, the
  queue policy does not let the rule send (an SQS target has no role, so every fire would fail quietly);
  and the queue's attributes against the job (ecsched.sqsjkr.target.queue_warnings: FIFO, KMS, delay);
- `fix_policies`: `apply --fix-queue-policy`, once the rules exist: the one statement that lets each rule
  send, added to its queue's policy; nothing else in the policy changes.

Each queue is read once (GetQueueUrl, GetQueueAttributes All). ECS schedules cost nothing here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecsched.model import Schedule
from ecsched.sqsjkr.target import JobTarget

if TYPE_CHECKING:
    from ecsched.aws import Aws
    from ecsched.sync.engine import Planned


@dataclass(frozen=True)
class Queue:
    arn: str
    url: str | None  # None: no such queue
    attributes: dict[str, str]


def job_rules(schedules: Iterable[Schedule]) -> list[tuple[Schedule, JobTarget]]:
    return [(s, s.target) for s in schedules if isinstance(s.target, JobTarget)]


def rule_arn(aws: Aws, s: Schedule) -> str:
    account = aws.account()
    return f"arn:{account.partition}:events:{s.region}:{account.id}:rule/{s.name}"


def _sqs(aws: Aws, queue_arn: str) -> Any:
    return aws.client("sqs", queue_arn.split(":")[3])


def read_queue(aws: Aws, queue_arn: str) -> Queue:
    _, _, _, _, owner, name = queue_arn.split(":", 5)
    sqs = _sqs(aws, queue_arn)
    try:
        url = str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=owner)["QueueUrl"])
    except sqs.exceptions.QueueDoesNotExist:
        return Queue(queue_arn, None, {})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes") or {}
    return Queue(queue_arn, url, dict(attrs))


def queue_notes(aws: Aws, schedules: Iterable[Schedule]) -> dict[str, list[str]]:
    """{rule name: [warning, ...]} for the job rules among `schedules` (disabled ones too: they resume)."""
    from ecsched.sqsjkr.policy import allows_send
    from ecsched.sqsjkr.target import queue_warnings

    queues: dict[str, Queue] = {}
    out: dict[str, list[str]] = {}
    for s, t in job_rules(schedules):
        q = queues.get(t.queue_arn) or queues.setdefault(t.queue_arn, read_queue(aws, t.queue_arn))
        if q.url is None:
            out[s.name] = [f"queue {t.queue_arn} does not exist: every fire of this rule would fail"]
            continue
        notes = queue_warnings(q.attributes, t, s.expression, backend=s.backend)
        if s.backend == "rules":
            verdict = allows_send(q.attributes.get("Policy"), t.queue_arn, rule_arn(aws, s))
            if not verdict.allowed:
                notes.insert(0, f"the queue policy does not let this rule send ({verdict.reason}): every fire "
                                "would fail quietly; `ecsched apply --fix-queue-policy` adds the one statement")
            notes += [f"queue policy: {n}" for n in verdict.notes]
        if notes:
            out[s.name] = notes
    return out


def fix_policies(aws: Aws, schedules: Iterable[Schedule]) -> list[str]:
    """Add the missing statement for each job rule on the rules backend (whose rule exists: call it after
    the writes). A policy that already allows the rule is not written.
    Scheduler job rules send with their role: nothing to add. Returns `queue Q policy (for rule R)`
    for each policy written."""
    from ecsched.sqsjkr.policy import fix_queue_policy

    done: list[str] = []
    for s, t in job_rules(schedules):
        if s.backend != "rules":
            continue
        q = read_queue(aws, t.queue_arn)
        if q.url is not None and fix_queue_policy(_sqs(aws, t.queue_arn), q.url, t.queue_arn, rule_arn(aws, s)):
            done.append(f"queue {t.queue_arn.rsplit(':', 1)[-1]} policy (for rule {s.name})")
    return done


def check_into(planned: Planned, aws: Aws, schedules: list[Schedule], *, fix: bool = False,
               skip: set[str] | None = None) -> None:
    """The run's queue notes (and, with `fix`, the policy fixes first) into `planned`. `skip`: rules whose
    write failed or was refused this run (no rule to let send). A failed read is a note, not an error:
    the plan itself is complete."""
    from ecsched.sync.read import describe

    jobs = [s for s, _ in job_rules(schedules) if s.name not in (skip or set())]
    if not jobs:
        return
    try:
        if fix:
            planned.queue_fixed = fix_policies(aws, jobs)
        planned.queue_notes = queue_notes(aws, jobs)
    except Exception as e:  # e.g. no sqs:GetQueueAttributes permission
        if fix:
            planned.queue_error = describe(e)
        planned.queue_notes = {s.name: [f"could not read its queue: {describe(e)}"] for s in jobs}
