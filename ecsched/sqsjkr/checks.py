"""What `diff` says about the queues of job rules, and what `apply --fix-queue-policy` writes. The
engine calls these with the schedules of the file (ECS rules are skipped); they read the queues once each.

- `queue_findings(aws, schedules)`: {rule name: [warning, ...]} — the queue policy (rules backend: an
  SQS target has no role), FIFO without content-based deduplication, a FIFO body that never changes,
  a customer KMS key, a delay past the job's life_time, a queue that does not exist;
- `fix_queue_policies(aws, schedules)`: adds the one missing statement per rule, returns what it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecsched.sqsjkr.policy import allows_send, fix_queue_policy
from ecsched.sqsjkr.target import JobTarget, queue_warnings

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ecsched.aws import Aws
    from ecsched.model import Schedule


@dataclass(frozen=True)
class Queue:
    url: str | None  # None: the queue does not exist
    attributes: dict[str, str]


def _jobs(schedules: Iterable[Schedule]) -> list[tuple[Schedule, JobTarget]]:
    return [(s, s.target) for s in schedules if isinstance(s.target, JobTarget)]


def rule_arn(s: Schedule, t: JobTarget) -> str:
    parts = t.queue_arn.split(":")
    return f"arn:{parts[1]}:events:{s.region}:{parts[4]}:rule/{s.name}"


def read_queue(aws: Aws, queue_arn: str) -> Queue:
    parts = queue_arn.split(":", 5)
    sqs = aws.client("sqs", parts[3])
    try:
        url = str(sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"])
    except sqs.exceptions.QueueDoesNotExist:
        return Queue(None, {})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes") or {}
    return Queue(url, dict(attrs))


def queue_findings(aws: Aws, schedules: Iterable[Schedule]) -> dict[str, list[str]]:
    queues: dict[str, Queue] = {}
    out: dict[str, list[str]] = {}
    for s, t in _jobs(schedules):
        q = queues.get(t.queue_arn) or queues.setdefault(t.queue_arn, read_queue(aws, t.queue_arn))
        if q.url is None:
            out[s.name] = [f"queue {t.queue_arn} does not exist: every fire of this rule would fail"]
            continue
        found = queue_warnings(q.attributes, t, s.expression, backend=s.backend)
        if s.backend == "rules":
            verdict = allows_send(q.attributes.get("Policy"), t.queue_arn, rule_arn(s, t))
            if not verdict.allowed:
                found.append(f"the queue policy does not let this rule send ({verdict.reason}): every fire "
                             "would fail quietly; `ecsched apply --fix-queue-policy` adds the one statement")
        if found:
            out[s.name] = found
    return out


def fix_queue_policies(aws: Aws, schedules: Iterable[Schedule]) -> list[str]:
    """For each job rule on the rules backend whose queue policy does not let it send: add the statement.
    Returns one line per policy written. Scheduler job rules send with their role: nothing to add."""
    done: list[str] = []
    for s, t in _jobs(schedules):
        if s.backend != "rules":
            continue
        q = read_queue(aws, t.queue_arn)
        if q.url is None:
            continue
        if fix_queue_policy(aws.client("sqs", t.queue_arn.split(":")[3]), q.url, t.queue_arn, rule_arn(s, t)):
            done.append(f"queue {t.queue_arn}: added a statement letting rule {s.name} send")
    return done


def dump_queue(events: Any, queue_arn: str, *, account: str, region: str,
               mask_env: Any = None) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """`dump --queue`: (the rules that send jobs to the queue, in the file's spelling; [(rule, why it was
    left out)]). Rules whose target is not a job ecsched can read are left out with the reason."""
    from ecsched.sqsjkr.discover import rules_for_queue
    from ecsched.sqsjkr.rule import job_rule_to_config
    from ecsched.sqsjkr.target import NotOurs

    rules: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    for found in rules_for_queue(events, queue_arn):
        if isinstance(found.target, NotOurs):
            skipped.append((found.rule["Name"], found.target.reason))
        elif found.rule.get("EventPattern") or not found.rule.get("ScheduleExpression"):
            skipped.append((found.rule["Name"], "it is an event-pattern rule, not a schedule"))
        else:
            rules.append(job_rule_to_config(found.rule, found.target, account=account, region=region,
                                            mask_env=mask_env))
    return rules, skipped
