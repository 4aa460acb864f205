"""Every name-to-ARN rule in one place. The model holds full ARNs; only dump shortens them back.

ecschedule trimmed and rebuilt ARNs in several places and got years of spurious diffs from it. Here,
a name becomes an ARN exactly once, when the file becomes the model, and live ARNs are never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_ROLE = "ecsEventsRole"  # ecschedule's default


@dataclass(frozen=True)
class Account:
    id: str
    partition: str = "aws"


def is_arn(value: str) -> bool:
    return value.startswith("arn:")


def cluster_arn(value: str, account: Account, region: str) -> str:
    if is_arn(value):
        return value
    return f"arn:{account.partition}:ecs:{region}:{account.id}:cluster/{value}"


def task_definition_arn(value: str, account: Account, region: str) -> str:
    """`family`, `family:rev` or an ARN. A bare family runs the latest active revision."""
    if is_arn(value):
        return value
    return f"arn:{account.partition}:ecs:{region}:{account.id}:task-definition/{value}"


def role_arn(value: str | None, account: Account) -> str:
    """`name`, `path/name` or an ARN."""
    value = value or DEFAULT_ROLE
    if is_arn(value):
        return value
    return f"arn:{account.partition}:iam::{account.id}:role/{value.strip('/')}"


def sqs_arn(value: str, account: Account, region: str) -> str:
    if is_arn(value):
        return value
    return f"arn:{account.partition}:sqs:{region}:{account.id}:{value}"


def rule_arn(name: str, account: Account, region: str) -> str:
    return f"arn:{account.partition}:events:{region}:{account.id}:rule/{name}"


_ARN = re.compile(r"^arn:(?P<partition>[^:]+):(?P<service>[^:]+):(?P<region>[^:]*):(?P<account>[^:]*):(?P<rest>.+)$")


def parse(arn: str) -> dict[str, str] | None:
    m = _ARN.match(arn)
    return m.groupdict() if m else None


def short(arn: str, account: Account | None = None, region: str | None = None) -> str:
    """The name a person would write in the file, when it resolves back to the same ARN (dump only)."""
    p = parse(arn)
    if not p or (account and p["account"] not in ("", account.id)) or (region and p["region"] not in ("", region)):
        return arn
    rest = p["rest"]
    if p["service"] == "ecs" and rest.startswith(("cluster/", "task-definition/")):
        return rest.split("/", 1)[1]
    if p["service"] == "iam" and rest.startswith("role/"):
        return rest[len("role/"):]
    if p["service"] == "sqs":
        return rest
    return arn


def task_id(task_arn: str) -> str:
    """The task id is the last `/` segment of the task ARN."""
    return task_arn.rsplit("/", 1)[-1]
