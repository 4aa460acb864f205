"""The queue checks diff should print for job rules, the policy fix apply --fix-queue-policy makes, and
`dump --queue` (the functions the engine calls; ecsched.sqsjkr.checks), against moto."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ecsched.model import Schedule
from tests.conftest import ACCOUNT, REGION, Result, client
from tests.sqsjkr_helpers import make_queue
from tests.test_jobs_apply import job_rule, write


def schedules(cfg: str) -> list[Schedule]:
    from ecsched.aws import Aws
    from ecsched.config import load

    aws = Aws(region=REGION)
    return list(load([cfg]).schedules(aws.account(), REGION))


def test_findings_name_the_missing_policy_and_the_fix_adds_exactly_one_statement(
        aws: str, tmp_path: Path) -> None:
    from ecsched.aws import Aws
    from ecsched.sqsjkr.checks import fix_queue_policies, queue_findings

    other = {"Sid": "mine", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
             "Action": "sqs:*", "Resource": "*"}
    url, arn = make_queue(policy={"Version": "2012-10-17", "Statement": [other]})
    cfg = write(tmp_path, job_rule())
    aws_ = Aws(region=REGION)
    found = queue_findings(aws_, schedules(cfg))
    assert list(found) == ["orders-export"] and "--fix-queue-policy" in found["orders-export"][0]
    assert fix_queue_policies(aws_, schedules(cfg)) == [
        f"queue {arn}: added a statement letting rule orders-export send"]
    policy = json.loads(client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
                        ["Attributes"]["Policy"])
    assert policy["Statement"][0] == other and len(policy["Statement"]) == 2
    assert policy["Statement"][1]["Condition"] == {
        "ArnEquals": {"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders-export"}}
    assert queue_findings(aws_, schedules(cfg)) == {}
    assert fix_queue_policies(aws_, schedules(cfg)) == []


def test_findings_for_a_fifo_queue_without_content_dedup_and_a_missing_queue(aws: str, tmp_path: Path) -> None:
    from ecsched.aws import Aws
    from ecsched.sqsjkr.checks import queue_findings

    make_queue("jobs.fifo")
    cfg = write(tmp_path, job_rule(queue="jobs.fifo", messageGroupId="g"), job_rule("gone", queue="nowhere"))
    found = queue_findings(Aws(region=REGION), schedules(cfg))
    assert any("content-based deduplication" in w for w in found["orders-export"])
    assert found["gone"] == [f"queue arn:aws:sqs:{REGION}:{ACCOUNT}:nowhere does not exist: every fire of this "
                             "rule would fail"]


def test_dump_queue_reads_back_what_apply_wrote_and_names_what_it_leaves_out(
        aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    import yaml

    from ecsched.sqsjkr.checks import dump_queue

    _, arn = make_queue()
    rule = job_rule(description="hourly export", dedupe=True)
    cfg = write(tmp_path, rule)
    assert cli("-c", cfg, "apply").code == 0
    ev = client("events")
    ev.put_rule(Name="whole-event", ScheduleExpression="rate(1 hour)")
    ev.put_targets(Rule="whole-event", Targets=[{"Id": "q", "Arn": arn}])
    rules, skipped = dump_queue(ev, arn, account=ACCOUNT, region=REGION)
    assert rules == [rule]
    assert skipped == [("whole-event", "it sends the whole event, not a job body (no Input)")]
    # What dump prints is a file that applies with no change.
    again = tmp_path / "again"
    again.mkdir()
    assert cli("-c", write(again, *rules), "diff", "--exit-code").code == 0
    assert yaml.safe_load(Path(cfg).read_text())["rules"] == rules
