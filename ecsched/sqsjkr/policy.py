"""May EventBridge send to the queue for this rule? And the fix: one statement, nothing else changed.

An SQS rule target has no role; the queue's resource policy must allow `sqs:SendMessage` from the
service principal `events.amazonaws.com`, normally with `aws:SourceArn` = the rule's ARN. Without it,
every fire fails (FailedInvocations) and no job ever reaches the worker.

The evaluation is deliberately conservative: a statement counts as granting only when every part of it
is understood (principal, action, resource, each condition). A matching Deny whose conditions hold (or
cannot be judged) wins. Anything not understood is reported, never guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

SERVICE = "events.amazonaws.com"
ACTION = "sqs:SendMessage"
VERSION = "2012-10-17"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    notes: tuple[str, ...] = field(default=())  # statements we could not judge, broad grants


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else ([] if v is None else [v])


def _glob(pattern: str, value: str, *, case: bool = True) -> bool:
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, 0 if case else re.IGNORECASE) is not None


def _arn_like(pattern: str, arn: str) -> bool:
    """ArnLike / ArnEquals: each of the six colon-separated parts is matched on its own, with * and ?."""
    p, a = pattern.split(":", 5), arn.split(":", 5)
    return len(p) == len(a) == 6 and all(_glob(x, y) for x, y in zip(p, a, strict=True))


def _principal_ok(st: dict[str, Any]) -> bool:
    if "NotPrincipal" in st:
        return False
    pr = st.get("Principal")
    if pr == "*":
        return True
    if isinstance(pr, dict):
        return SERVICE in _list(pr.get("Service")) or "*" in _list(pr.get("AWS"))
    return False


def _action_ok(st: dict[str, Any]) -> bool:
    return "NotAction" not in st and any(_glob(str(a), ACTION, case=False) for a in _list(st.get("Action")))


def _resource_ok(st: dict[str, Any], queue_arn: str) -> bool:
    if "NotResource" in st:
        return False
    res = _list(st.get("Resource"))
    return not res or any(_glob(str(r), queue_arn) for r in res)  # no Resource: the queue itself


def _conditions(st: dict[str, Any], context: dict[str, str]) -> bool | None:
    """True/False when every condition is understood; None when one is not."""
    cond = st.get("Condition") or {}
    if not isinstance(cond, dict):
        return None
    for op, block in cond.items():
        if not isinstance(block, dict):
            return None
        base = op.removesuffix("IfExists")
        for key, want in block.items():
            have = context.get(key.lower())
            if have is None:
                return None
            values = [str(w) for w in _list(want)]
            if base in ("ArnEquals", "ArnLike"):
                ok = any(_arn_like(w, have) for w in values)
            elif base == "ArnNotEquals" or base == "ArnNotLike":
                ok = not any(_arn_like(w, have) for w in values)
            elif base == "StringEquals":
                ok = have in values
            elif base == "StringNotEquals":
                ok = have not in values
            elif base == "StringEqualsIgnoreCase":
                ok = have.lower() in (w.lower() for w in values)
            elif base == "StringLike":
                ok = any(_glob(w, have) for w in values)
            elif base == "StringNotLike":
                ok = not any(_glob(w, have) for w in values)
            else:
                return None
            if not ok:
                return False
    return True


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _list(policy.get("Statement")) if isinstance(s, dict)]


def allows_send(policy_text: str | None, queue_arn: str, rule_arn: str) -> Verdict:
    """Whether the queue policy lets EventBridge send for the rule (an SQS target has no role)."""
    if not policy_text:
        return Verdict(False, "the queue has no policy, so EventBridge may not send to it")
    try:
        policy = json.loads(policy_text)
    except json.JSONDecodeError:
        return Verdict(False, "the queue policy is not JSON")
    if not isinstance(policy, dict):
        return Verdict(False, "the queue policy is not a JSON object")
    parts = rule_arn.split(":")
    context = {"aws:sourcearn": rule_arn, "aws:sourceaccount": parts[4] if len(parts) > 4 else ""}
    notes: list[str] = []
    allowed_by: str | None = None
    for i, st in enumerate(_statements(policy)):
        name = st.get("Sid") or f"statement {i + 1}"
        if not (_principal_ok(st) and _action_ok(st) and _resource_ok(st, queue_arn)):
            if "NotPrincipal" in st or "NotAction" in st or "NotResource" in st:
                notes.append(f"{name}: uses NotPrincipal/NotAction/NotResource, not judged")
            continue
        holds = _conditions(st, context)
        effect = st.get("Effect")
        if effect == "Deny" and holds is not False:
            why = "denies" if holds else "may deny (a condition ecsched cannot judge)"
            return Verdict(False, f"{name} {why} EventBridge's sqs:SendMessage for this rule", tuple(notes))
        if effect != "Allow":
            continue
        if holds is None:
            notes.append(f"{name}: a condition ecsched cannot judge; not counted")
        elif holds and allowed_by is None:
            allowed_by = name
            if not st.get("Condition"):
                notes.append(f"{name}: allows every EventBridge rule of any account; aws:SourceArn would narrow it")
    if allowed_by:
        return Verdict(True, f"{allowed_by} allows it", tuple(notes))
    return Verdict(False, "no statement allows events.amazonaws.com to sqs:SendMessage for this rule", tuple(notes))


def statement_for(queue_arn: str, rule_arn: str, existing: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The one statement `apply --fix-queue-policy` adds. Its Sid is unique within the policy."""
    rule = rule_arn.rsplit("/", 1)[-1]
    base = "ecschedSendFrom" + re.sub(r"[^A-Za-z0-9]", "", rule.title())[:80]
    taken = {str(s.get("Sid")) for s in existing or []}
    sid, n = base, 2
    while sid in taken:
        sid, n = f"{base}{n}", n + 1
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": SERVICE},
        "Action": ACTION,
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }


def fixed_policy(policy_text: str | None, queue_arn: str, rule_arn: str) -> str | None:
    """The policy with exactly one statement added; None when it already allows the rule.

    Every other key and statement stays as it was, in its order (a single-statement object becomes a
    list of two, the only way to add one). Raises ValueError for a policy that is not a JSON object.
    """
    if allows_send(policy_text, queue_arn, rule_arn).allowed:
        return None
    policy: dict[str, Any] = {"Version": VERSION, "Statement": []}
    if policy_text:
        loaded = json.loads(policy_text)
        if not isinstance(loaded, dict):
            raise ValueError("the queue policy is not a JSON object; fix it by hand")
        policy = loaded
    existing = _list(policy.get("Statement"))
    policy["Statement"] = [*existing, statement_for(queue_arn, rule_arn, _statements(policy))]
    return json.dumps(policy, separators=(",", ":"))


# --- against SQS ---------------------------------------------------------------------------------------


def read_policy(sqs: Any, queue_url: str) -> str | None:
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"]).get("Attributes") or {}
    return attrs.get("Policy") or None


def fix_queue_policy(sqs: Any, queue_url: str, queue_arn: str, rule_arn: str) -> bool:
    """Add the statement when it is missing; True when the policy was written. SQS has no conditional
    SetQueueAttributes, so a concurrent edit in the same second could be lost: re-read right before."""
    new = fixed_policy(read_policy(sqs, queue_url), queue_arn, rule_arn)
    if new is None:
        return False
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": new})
    return True
