"""The queue-policy check and its one-statement fix, on real queue policies stored in moto's SQS."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecsched.sqsjkr.policy import allows_send, fix_queue_policy, fixed_policy, read_policy
from tests.conftest import ACCOUNT, REGION, client
from tests.sqsjkr_helpers import RULE_ARN, make_queue

QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:sqsjkr-jobs"


def stmt(**over: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"Sid": "events", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                         "Action": "sqs:SendMessage", "Resource": QUEUE_ARN,
                         "Condition": {"ArnEquals": {"aws:SourceArn": RULE_ARN}}}
    s.update(over)
    return {k: v for k, v in s.items() if v is not None}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Id": "team-policy", "Statement": list(statements)}


def verdict_in_moto(p: dict[str, Any] | None) -> tuple[bool, str]:
    url, arn = make_queue(policy=p)
    v = allows_send(read_policy(client("sqs"), url), arn, RULE_ARN)
    return v.allowed, v.reason + " " + " ".join(v.notes)


@pytest.mark.parametrize(("p", "allowed", "says"), [
    (None, False, "no policy"),
    (policy(stmt()), True, "events allows"),
    (policy(stmt(Condition={"ArnLike": {"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders-*"}})),
     True, "allows"),
    (policy(stmt(Condition={"ArnLike": {"aws:SourceArn": f"arn:aws:events:*:{ACCOUNT}:rule/*"}})), True, "allows"),
    (policy(stmt(Condition={"ArnEquals": {"aws:SourceArn": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/other",
                                                            RULE_ARN]}})), True, "allows"),
    (policy(stmt(Condition={"ArnEquals": {"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/other"}})),
     False, "no statement"),
    (policy(stmt(Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})), True, "allows"),
    (policy(stmt(Condition={"StringEquals": {"aws:SourceAccount": "999999999999"}})), False, "no statement"),
    (policy(stmt(Condition=None)), True, "every EventBridge rule"),
    (policy(stmt(Principal="*", Condition=None)), True, "allows"),
    (policy(stmt(Principal={"Service": "sns.amazonaws.com"})), False, "no statement"),
    (policy(stmt(Principal={"Service": ["sns.amazonaws.com", "events.amazonaws.com"]})), True, "allows"),
    (policy(stmt(Action=["sqs:ReceiveMessage"])), False, "no statement"),
    (policy(stmt(Action="sqs:*")), True, "allows"),
    (policy(stmt(Action="SQS:sendmessage")), True, "allows"),
    (policy(stmt(Resource=f"arn:aws:sqs:{REGION}:{ACCOUNT}:other")), False, "no statement"),
    (policy(stmt(Resource=f"arn:aws:sqs:*:{ACCOUNT}:*")), True, "allows"),
    (policy(stmt(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})), False, "cannot judge"),
    (policy(stmt(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}})), False, "cannot judge"),
    (policy(stmt(), stmt(Sid="no", Effect="Deny", Condition=None)), False, "no denies"),
    (policy(stmt(), stmt(Sid="no", Effect="Deny", Condition={"ArnNotEquals": {"aws:SourceArn": RULE_ARN}})),
     True, "allows"),
    (policy(stmt(Sid="no", Effect="Deny", Condition={"Bool": {"aws:SecureTransport": "false"}}), stmt()),
     False, "may deny"),
    (policy(stmt(NotPrincipal={"AWS": "arn:aws:iam::1:root"}, Principal=None)), False, "NotPrincipal"),
])
def test_queue_policies(aws: str, p: dict[str, Any] | None, allowed: bool, says: str) -> None:
    got, text = verdict_in_moto(p)
    assert got == allowed, text
    assert says in text


def test_a_single_statement_object_is_read() -> None:
    assert allows_send(json.dumps({"Version": "2012-10-17", "Statement": stmt()}), QUEUE_ARN, RULE_ARN).allowed


def test_fix_adds_exactly_one_statement_and_changes_nothing_else(aws: str) -> None:
    other = {"Sid": "worker", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/worker"},
             "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"], "Resource": QUEUE_ARN}
    wrong = stmt(Sid="events", Condition={"ArnEquals": {"aws:SourceArn": RULE_ARN + "-old"}})
    original = policy(other, wrong)
    url, arn = make_queue(policy=original)
    sqs = client("sqs")
    assert not allows_send(read_policy(sqs, url), arn, RULE_ARN).allowed
    assert fix_queue_policy(sqs, url, arn, RULE_ARN) is True
    after = json.loads(read_policy(sqs, url) or "")
    assert {k: v for k, v in after.items() if k != "Statement"} == {k: v for k, v in original.items()
                                                                    if k != "Statement"}
    assert after["Statement"][:2] == [other, wrong]
    (added,) = after["Statement"][2:]
    assert added["Principal"] == {"Service": "events.amazonaws.com"} and added["Action"] == "sqs:SendMessage"
    assert added["Condition"] == {"ArnEquals": {"aws:SourceArn": RULE_ARN}} and added["Resource"] == arn
    assert added["Sid"] not in ("worker", "events")
    assert allows_send(read_policy(sqs, url), arn, RULE_ARN).allowed
    assert fix_queue_policy(sqs, url, arn, RULE_ARN) is False  # the second apply writes nothing
    assert json.loads(read_policy(sqs, url) or "") == after


def test_fix_on_a_queue_without_policy(aws: str) -> None:
    url, arn = make_queue()
    sqs = client("sqs")
    assert fix_queue_policy(sqs, url, arn, RULE_ARN)
    p = json.loads(read_policy(sqs, url) or "")
    assert p["Version"] == "2012-10-17" and len(p["Statement"]) == 1
    assert allows_send(json.dumps(p), arn, RULE_ARN).allowed
    other_rule = RULE_ARN.replace("orders-export", "orders-import")
    assert not allows_send(json.dumps(p), arn, other_rule).allowed


def test_fix_of_a_single_statement_object_and_unique_sids() -> None:
    one = {"Version": "2012-10-17", "Statement": {"Sid": "ecschedSendFromOrdersExport", "Effect": "Allow",
                                                  "Principal": {"AWS": "*"}, "Action": "sqs:ReceiveMessage"}}
    fixed = json.loads(fixed_policy(json.dumps(one), QUEUE_ARN, RULE_ARN) or "")
    assert fixed["Statement"][0] == one["Statement"]
    assert fixed["Statement"][1]["Sid"] == "ecschedSendFromOrdersExport2"


def test_a_deny_is_not_fixed_away() -> None:
    denied = json.dumps(policy(stmt(Sid="no", Effect="Deny", Condition=None)))
    fixed = fixed_policy(denied, QUEUE_ARN, RULE_ARN)
    assert fixed is not None and not allows_send(fixed, QUEUE_ARN, RULE_ARN).allowed


def test_a_policy_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="by hand"):
        fixed_policy("[1]", QUEUE_ARN, RULE_ARN)
