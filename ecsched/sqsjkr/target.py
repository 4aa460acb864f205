"""An sqsjkr job as an EventBridge rule target or a Scheduler target, and back.

Rules: `Arn` is the queue ARN and `Input` the job JSON. An SQS target takes no role: the queue policy
must let events.amazonaws.com send for the rule (see policy.py). FIFO queues need
`SqsParameters.MessageGroupId`.

dedupe: on rules, an InputTransformer puts the event's `time` (the scheduled minute) into the body as
`scheduled_at`, which sqsjkr ignores. On a FIFO queue with content-based deduplication, SQS hashes the
body, so two fires of one tick send the same body and collapse into one message (within SQS's 5-minute
deduplication window). Scheduler has no deduplication-id parameter for SQS (SqsParameters holds only
MessageGroupId) and demands content-based deduplication for FIFO queues; the body carries
`<aws.scheduler.scheduled-time>` instead, which makes the scheduled time the deduplication key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ecsched.sqsjkr.job import SCHEDULED_AT, Job, JobError, parse_body, to_input, without_scheduled_at

RULE_TIME = "<time>"
RULE_PATHS = {"time": "$.time"}
SCHEDULER_TIME = "<aws.scheduler.scheduled-time>"
DEDUP_WINDOW = 300  # seconds: SQS FIFO deduplication interval


@dataclass(frozen=True)
class JobTarget:
    """The proposed model field for a job rule: `Schedule.target` is an EcsTarget or a JobTarget."""

    target_id: str
    queue_arn: str
    job: Job
    message_group_id: str | None = None
    dedupe: bool = False
    role_arn: str | None = None  # Scheduler only; rules never send one for SQS
    dead_letter_arn: str | None = None
    maximum_retry_attempts: int | None = None
    maximum_event_age_in_seconds: int | None = None

    @property
    def fifo(self) -> bool:
        return self.queue_arn.endswith(".fifo")


@dataclass(frozen=True)
class NotOurs:
    """A live target ecsched will not read as a job (and so never overwrites): why."""

    reason: str


def _retry(t: JobTarget) -> dict[str, int]:
    return {k: v for k, v in (("MaximumRetryAttempts", t.maximum_retry_attempts),
                              ("MaximumEventAgeInSeconds", t.maximum_event_age_in_seconds)) if v is not None}


def rule_target_params(t: JobTarget) -> dict[str, Any]:
    """One PutTargets entry. No RoleArn: the queue policy grants the rule (policy.py)."""
    out: dict[str, Any] = {"Id": t.target_id, "Arn": t.queue_arn}
    if t.dedupe:
        out["InputTransformer"] = {"InputPathsMap": dict(RULE_PATHS),
                                   "InputTemplate": to_input(t.job, scheduled_at_placeholder=RULE_TIME)}
    else:
        out["Input"] = to_input(t.job)
    if t.message_group_id:
        out["SqsParameters"] = {"MessageGroupId": t.message_group_id}
    if t.dead_letter_arn:
        out["DeadLetterConfig"] = {"Arn": t.dead_letter_arn}
    if rp := _retry(t):
        out["RetryPolicy"] = rp
    return out


def scheduler_target_params(t: JobTarget, *, default_retry: tuple[int, int] = (185, 86400)) -> dict[str, Any]:
    """The schedule's Target (Scheduler needs a role that may sqs:SendMessage to the queue). RetryPolicy is
    sent in full so that AWS holds exactly what the model says (moto fills 185/86400 in when absent)."""
    if not t.role_arn:
        raise ValueError("a Scheduler target needs a role that may sqs:SendMessage to the queue")
    text = to_input(t.job, scheduled_at_placeholder=SCHEDULER_TIME if t.dedupe else None)
    out: dict[str, Any] = {
        "Arn": t.queue_arn, "RoleArn": t.role_arn, "Input": text,
        "RetryPolicy": {"MaximumRetryAttempts": t.maximum_retry_attempts if t.maximum_retry_attempts is not None
                        else default_retry[0],
                        "MaximumEventAgeInSeconds": t.maximum_event_age_in_seconds
                        if t.maximum_event_age_in_seconds is not None else default_retry[1]},
    }
    if t.message_group_id:
        out["SqsParameters"] = {"MessageGroupId": t.message_group_id}
    if t.dead_letter_arn:
        out["DeadLetterConfig"] = {"Arn": t.dead_letter_arn}
    return out


def is_sqs_target(target: dict[str, Any]) -> bool:
    return str(target.get("Arn", "")).split(":")[2:3] == ["sqs"]


def _job_of(text: Any, placeholder: str | None) -> tuple[Job, bool] | NotOurs:
    """(job, dedupe) from an Input or InputTemplate; `placeholder` is what a dedupe body carries."""
    if not isinstance(text, str):
        return NotOurs("it sends the whole event, not a job body (no Input)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return NotOurs("its Input is not JSON")
    if not isinstance(data, dict):
        return NotOurs("its Input is not a JSON object")
    dedupe = False
    if placeholder is not None and SCHEDULED_AT in data:
        if data[SCHEDULED_AT] != placeholder:
            return NotOurs(f"its body's scheduled_at is not {placeholder}, which ecsched writes")
        dedupe = True
    try:
        job = parse_body(data)
    except JobError as e:
        return NotOurs(f"sqsjkr would drop its body: {e}")
    return (without_scheduled_at(job) if dedupe else job), dedupe


def job_target_from_rule_target(target: dict[str, Any]) -> JobTarget | NotOurs:
    """A ListTargetsByRule entry → JobTarget, or why ecsched does not read it as one of its jobs."""
    if not is_sqs_target(target):
        return NotOurs("its target is not an SQS queue")
    if target.get("RoleArn"):
        return NotOurs("its SQS target has a RoleArn, which ecsched never writes")
    if target.get("InputPath"):
        return NotOurs("it sends part of the event (InputPath), not a job body")
    if "InputTransformer" in target:
        tr = target["InputTransformer"] or {}
        if tr.get("InputPathsMap") != RULE_PATHS:
            return NotOurs("its InputTransformer was not written by ecsched")
        got = _job_of(tr.get("InputTemplate"), RULE_TIME)
        if isinstance(got, tuple) and not got[1]:
            return NotOurs("its InputTransformer was not written by ecsched (no scheduled_at)")
    else:
        got = _job_of(target.get("Input"), None)
    if isinstance(got, NotOurs):
        return got
    return _job_target(target, got, str(target.get("Id", "")))


def job_target_from_schedule_target(target: dict[str, Any], *, target_id: str) -> JobTarget | NotOurs:
    """A GetSchedule `Target` → JobTarget (Scheduler targets have no Id: the schedule name serves)."""
    if not is_sqs_target(target):
        return NotOurs("its target is not an SQS queue")
    got = _job_of(target.get("Input"), SCHEDULER_TIME)
    if isinstance(got, NotOurs):
        return got
    return _job_target(target, got, target_id)


def _job_target(target: dict[str, Any], got: tuple[Job, bool], target_id: str) -> JobTarget:
    """The parts rules and Scheduler spell alike (a rule's SQS target never has a RoleArn here)."""
    job, dedupe = got
    rp = target.get("RetryPolicy") or {}
    return JobTarget(
        target_id=target_id, queue_arn=str(target["Arn"]), job=job,
        message_group_id=(target.get("SqsParameters") or {}).get("MessageGroupId") or None, dedupe=dedupe,
        role_arn=target.get("RoleArn") or None,
        dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn") or None,
        maximum_retry_attempts=rp.get("MaximumRetryAttempts"),
        maximum_event_age_in_seconds=rp.get("MaximumEventAgeInSeconds"),
    )


# --- what the queue's attributes mean for the target -------------------------------------------------


def _frequent(expression: str) -> bool:
    """True when the schedule may fire twice within SQS's 5-minute deduplication window."""
    e = expression.strip()
    if e.startswith("rate("):
        parts = e[5:-1].split()
        try:
            n = int(parts[0])
        except (ValueError, IndexError):
            return False
        return parts[1].startswith("minute") and n < DEDUP_WINDOW // 60
    if e.startswith("cron("):
        fields = e[5:-1].split()
        return bool(fields) and not fields[0].isdigit()
    return False


def queue_warnings(attributes: dict[str, str], t: JobTarget, expression: str, *, backend: str = "rules") -> list[str]:
    """What `diff` should say about the queue, from GetQueueAttributes (All)."""
    out: list[str] = []
    fifo = attributes.get("FifoQueue") == "true"
    content = attributes.get("ContentBasedDeduplication") == "true"
    if fifo and not t.message_group_id:
        out.append("the queue is FIFO: messageGroupId is required, or every send fails")
    if fifo and not content:
        out.append("the FIFO queue has no content-based deduplication: EventBridge and Scheduler send no "
                   "deduplication id, so enable ContentBasedDeduplication on the queue")
    if fifo and content and not t.dedupe and _frequent(expression):
        out.append(f"the FIFO queue deduplicates by content and this job's body never changes: fires less "
                   f"than {DEDUP_WINDOW // 60} minutes apart are dropped as duplicates; set `dedupe: true`")
    kms = attributes.get("KmsMasterKeyId")
    if kms and kms != "alias/aws/sqs":
        who = "events.amazonaws.com" if backend == "rules" else "the schedule's role"
        out.append(f"the queue is encrypted with {kms}: {who} needs kms:GenerateDataKey and kms:Decrypt on it")
    delay = int(attributes.get("DelaySeconds") or 0)
    if delay and 0 < t.job.life_time_seconds <= delay:
        out.append(f"the queue delays every message {delay} s, and life_time counts from the send: the worker "
                   "would find every job over its life_time")
    return out
