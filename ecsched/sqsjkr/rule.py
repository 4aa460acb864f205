"""A job rule between the file's spelling and `JobTarget`, both ways (build and dump/diff).

The file spells a job rule as `queue` (name, URL or ARN), `job` (sqsjkr's own field names),
`messageGroupId`, `dedupe`, and the target keys ECS rules share (`targetId`, `dead_letter_config`,
`retryPolicy`). Validation comes first (validate.rule_problems); these functions assume a valid rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecsched.sqsjkr.job import Job, queue_ref
from ecsched.sqsjkr.target import JobTarget


def job_target_from_rule(rule: dict[str, Any], *, account: str, region: str, partition: str = "aws",
                         role_arn: str | None = None) -> JobTarget:
    """The model's target for a valid job rule. `role_arn` only for the Scheduler backend."""
    dlq = (rule.get("dead_letter_config") or {}).get("sqs")
    rp = rule.get("retryPolicy") or {}
    return JobTarget(
        target_id=str(rule.get("targetId") or rule["name"]),
        queue_arn=queue_ref(str(rule["queue"]), account, region, partition).arn,
        job=Job.from_config(rule["job"]),
        message_group_id=rule.get("messageGroupId") or None,
        dedupe=rule.get("dedupe") is True,
        role_arn=role_arn,
        dead_letter_arn=queue_ref(str(dlq), account, region, partition).arn if dlq else None,
        maximum_retry_attempts=rp.get("maximumRetryAttempts"),
        maximum_event_age_in_seconds=rp.get("maximumEventAgeInSeconds"),
    )


def job_rule_to_config(rule: dict[str, Any], t: JobTarget, *, account: str, region: str,
                       mask_env: Callable[[dict[str, str]], dict[str, str]] | None = None) -> dict[str, Any]:
    """One rule in the file's spelling (defaults left out). `mask_env` hides secret values, as dump does
    for ECS environments."""
    out: dict[str, Any] = {"name": rule["Name"]}
    if rule.get("Description"):
        out["description"] = rule["Description"]
    out["scheduleExpression"] = rule.get("ScheduleExpression", "")
    if rule.get("State") == "DISABLED":
        out["disabled"] = True
    if t.target_id != rule["Name"]:
        out["targetId"] = t.target_id
    out["queue"] = _short(t.queue_arn, account, region)
    if t.message_group_id:
        out["messageGroupId"] = t.message_group_id
    job = t.job.to_config()
    if "envs" in job and mask_env:
        job["envs"] = mask_env(job["envs"])
    out["job"] = job
    if t.dedupe:
        out["dedupe"] = True
    if t.dead_letter_arn:
        out["dead_letter_config"] = {"sqs": _short(t.dead_letter_arn, account, region)}
    rp = {k: v for k, v in (("maximumRetryAttempts", t.maximum_retry_attempts),
                            ("maximumEventAgeInSeconds", t.maximum_event_age_in_seconds)) if v is not None}
    if rp:
        out["retryPolicy"] = rp
    return out


def _short(arn: str, account: str, region: str) -> str:
    """The queue's name when it is in the config's account and region; its ARN otherwise."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[3] == region and parts[4] == account:
        return parts[5]
    return arn
