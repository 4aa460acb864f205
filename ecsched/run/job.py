"""`ecsched run --rule JOB` for an sqsjkr job rule: send the job now with a unique event_id, and with
`wait` follow what sqsjkr leaves behind (its lock item, the worker's log lines). The engine of the
command; what can and cannot be known is in ecsched.sqsjkr.send and docs/sqsjkr.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecsched.errors import EcschedError
from ecsched.model import Schedule
from ecsched.sqsjkr.send import FollowOptions, Outcome, Sent, follow, send_job

if TYPE_CHECKING:
    from ecsched.aws import Aws


@dataclass(frozen=True)
class JobRunOptions:
    wait: bool = False
    lock_table: str | None = None  # sqsjkr's lock table
    log_group: str | None = None  # the workers' log group
    timeout: float = 3600.0
    poll: float = 2.0
    settle: float = 15.0


@dataclass(frozen=True)
class JobRun:
    sent: Sent
    outcome: Outcome | None  # None: not followed

    @property
    def exit_code(self) -> int:
        return self.outcome.exit_code if self.outcome else 0

    def as_json(self, rule: str) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": rule, "messageId": self.sent.message_id, "eventId": self.sent.event_id,
                               "exitCode": self.exit_code}
        if self.outcome:
            out.update(self.outcome.as_json())
        return out


def queue_url(sqs: Any, queue_arn: str) -> str:
    """The queue's URL from its ARN (GetQueueUrl: the endpoint decides the URL's form)."""
    parts = queue_arn.split(":", 5)
    try:
        return str(sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"])
    except sqs.exceptions.QueueDoesNotExist:
        raise EcschedError(f"queue {parts[5]} does not exist in account {parts[4]} ({parts[3]})") from None


def run_job(schedule: Schedule, aws: Aws, opts: JobRunOptions,
            on_event: Callable[[str], None] | None = None) -> JobRun:
    t = schedule.job
    if t is None:
        raise EcschedError(f"rule {schedule.name} runs an ECS task, not an sqsjkr job")
    region = t.queue_arn.split(":")[3] or schedule.region
    sqs = aws.client("sqs", region)
    sent = send_job(sqs, queue_url(sqs, t.queue_arn), t.job, rule=schedule.name,
                    message_group_id=t.message_group_id)
    if on_event:
        on_event(f"sent message {sent.message_id} (event {sent.event_id})")
    if not opts.wait:
        return JobRun(sent, None)
    follow_opts = FollowOptions(event_id=sent.event_id, since=sent.sent_at, lock_table=opts.lock_table,
                                lock_id=t.job.lock_id or None, log_group=opts.log_group, timeout=opts.timeout,
                                poll=opts.poll, settle=opts.settle)
    ddb = aws.client("dynamodb", schedule.region) if opts.lock_table else None
    logs = aws.client("logs", schedule.region) if opts.log_group else None
    return JobRun(sent, follow(follow_opts, ddb=ddb, logs=logs, on_event=on_event))
