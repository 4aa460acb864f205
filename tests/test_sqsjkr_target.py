"""Job targets written to moto and read back: the same Job, the FIFO group, dedupe, and what is not ours."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecsched.sqsjkr.job import Job
from ecsched.sqsjkr.target import (
    JobTarget,
    NotOurs,
    job_target_from_rule_target,
    job_target_from_schedule_target,
    queue_warnings,
    rule_target_params,
    scheduler_target_params,
)
from tests.conftest import ACCOUNT, REGION, client
from tests.sqsjkr_helpers import make_queue

JOB = Job("php artisan export:orders", envs=(("APP_ENV", "production"),), lock_id="export-orders", life_time="10m",
          abort_if_locked=True)
ROLE = f"arn:aws:iam::{ACCOUNT}:role/scheduler-sqs"


def put_and_read(target: JobTarget, rule: str = "orders-export") -> dict[str, Any]:
    events = client("events")
    events.put_rule(Name=rule, ScheduleExpression="cron(0 * * * ? *)", State="DISABLED")
    resp = events.put_targets(Rule=rule, Targets=[rule_target_params(target)])
    assert resp["FailedEntryCount"] == 0
    (live,) = events.list_targets_by_rule(Rule=rule)["Targets"]
    return dict(live)


def test_standard_queue_target_has_no_role_and_reads_back(aws: str) -> None:
    _, arn = make_queue()
    t = JobTarget("orders-export", arn, JOB)
    live = put_and_read(t)
    assert live["Arn"] == arn and "RoleArn" not in live and "SqsParameters" not in live
    assert json.loads(live["Input"])["command"] == "php artisan export:orders"
    assert job_target_from_rule_target(live) == t


def test_fifo_group_reads_back(aws: str) -> None:
    _, arn = make_queue("jobs.fifo", content_dedup=True)
    t = JobTarget("orders-export", arn, JOB, message_group_id="batch", maximum_retry_attempts=3,
                  maximum_event_age_in_seconds=600, dead_letter_arn=make_queue("dlq")[1])
    live = put_and_read(t)
    assert live["SqsParameters"] == {"MessageGroupId": "batch"}
    back = job_target_from_rule_target(live)
    assert back == t and isinstance(back, JobTarget) and back.fifo


def test_dedupe_is_an_input_transformer_with_scheduled_at(aws: str) -> None:
    _, arn = make_queue("jobs.fifo", content_dedup=True)
    t = JobTarget("orders-export", arn, JOB, message_group_id="batch", dedupe=True)
    live = put_and_read(t)
    assert "Input" not in live
    tr = live["InputTransformer"]
    assert tr["InputPathsMap"] == {"time": "$.time"}
    assert json.loads(tr["InputTemplate"])["scheduled_at"] == "<time>"
    back = job_target_from_rule_target(live)
    assert back == t and isinstance(back, JobTarget) and back.dedupe and "scheduled_at" not in dict(back.job.extra)


def test_a_different_key_order_live_is_the_same_job(aws: str) -> None:
    _, arn = make_queue()
    events = client("events")
    events.put_rule(Name="r", ScheduleExpression="rate(1 hour)")
    body = {"life_time": 600, "abort_if_locked": True, "lock_id": "export-orders",
            "envs": {"APP_ENV": "production"}, "command": "php artisan export:orders"}
    events.put_targets(Rule="r", Targets=[{"Id": "r", "Arn": arn, "Input": json.dumps(body, indent=2)}])
    (live,) = events.list_targets_by_rule(Rule="r")["Targets"]
    assert job_target_from_rule_target(live) == JobTarget("r", arn, JOB)


def test_scheduler_target_round_trip_with_dedupe(aws: str) -> None:
    _, arn = make_queue("jobs.fifo", content_dedup=True)
    t = JobTarget("orders-export", arn, JOB, message_group_id="batch", dedupe=True, role_arn=ROLE)
    sch = client("scheduler")
    params = scheduler_target_params(t)
    assert json.loads(params["Input"])["scheduled_at"] == "<aws.scheduler.scheduled-time>"
    sch.create_schedule(Name="orders-export", ScheduleExpression="cron(0 * * * ? *)",
                        FlexibleTimeWindow={"Mode": "OFF"}, Target=params)
    live = sch.get_schedule(Name="orders-export")["Target"]
    back = job_target_from_schedule_target(live, target_id="orders-export")
    assert isinstance(back, JobTarget)
    assert back.job == JOB and back.dedupe and back.role_arn == ROLE and back.message_group_id == "batch"
    assert (back.maximum_retry_attempts, back.maximum_event_age_in_seconds) == (185, 86400)


def test_scheduler_needs_a_role() -> None:
    with pytest.raises(ValueError, match="role"):
        scheduler_target_params(JobTarget("x", "arn:aws:sqs:us-east-1:1:q", JOB))


@pytest.mark.parametrize(("target", "says"), [
    ({"Id": "a", "Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api", "EcsParameters": {}}, "not an SQS"),
    ({"Id": "a", "Arn": "Q", "RoleArn": ROLE, "Input": '{"command":"x"}'}, "RoleArn"),
    ({"Id": "a", "Arn": "Q"}, "whole event"),
    ({"Id": "a", "Arn": "Q", "InputPath": "$.detail"}, "InputPath"),
    ({"Id": "a", "Arn": "Q", "InputTransformer": {"InputPathsMap": {"t": "$.time"}, "InputTemplate": "{}"}},
     "not written by ecsched"),
    ({"Id": "a", "Arn": "Q", "InputTransformer": {"InputPathsMap": {"time": "$.time"},
                                                  "InputTemplate": '{"command":"x"}'}}, "no scheduled_at"),
    ({"Id": "a", "Arn": "Q", "InputTransformer": {"InputPathsMap": {"time": "$.time"},
                                                  "InputTemplate": '{"command":"x","scheduled_at":"<id>"}'}},
     "scheduled_at"),
    ({"Id": "a", "Arn": "Q", "Input": "not json"}, "not JSON"),
    ({"Id": "a", "Arn": "Q", "Input": '{"command":"x","life_time":null}'}, "would drop"),
    ({"Id": "a", "Arn": "Q", "Input": '{"cmd":"x"}'}, "no command"),
])
def test_targets_that_are_not_ours(target: dict[str, Any], says: str) -> None:
    target = {**target, "Arn": target["Arn"].replace("Q", f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs")}
    got = job_target_from_rule_target(target)
    assert isinstance(got, NotOurs) and says in got.reason, got


# --- property: random jobs through moto and back -------------------------------------------------------

_word = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF, blacklist_categories=("Cs",)), min_size=1,
                max_size=12).filter(lambda s: s.strip() != "")


@st.composite
def job_targets(draw: st.DrawFn) -> tuple[Job, bool, str | None]:
    job = Job(command=draw(_word), envs=tuple(sorted(draw(st.dictionaries(st.from_regex(r"[A-Z]{1,5}", fullmatch=True),
                                                                         _word, max_size=3)).items())),
              lock_id=draw(st.one_of(st.just(""), _word)),
              life_time=draw(st.one_of(st.integers(0, 86400), st.sampled_from(["90s", "10m", "1h30m", "1.5h"]))),
              abort_if_locked=draw(st.booleans()))
    return job, draw(st.booleans()), draw(st.sampled_from([None, "batch"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(job_targets())
def test_any_job_reads_back_from_moto_unchanged(aws: str, case: tuple[Job, bool, str | None]) -> None:
    job, dedupe, group = case
    t = JobTarget("prop", f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs{'.fifo' if group else ''}", job,
                  message_group_id=group, dedupe=dedupe)
    live = put_and_read(t, "prop")
    back = job_target_from_rule_target(live)
    assert back == t
    assert isinstance(back, JobTarget) and rule_target_params(back) == rule_target_params(t)  # zero writes next time


# --- the queue's attributes ----------------------------------------------------------------------------


def attrs(url: str) -> dict[str, str]:
    return dict(client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])


def test_queue_warnings_from_real_queues(aws: str) -> None:
    url, arn = make_queue("plain.fifo")
    w = queue_warnings(attrs(url), JobTarget("r", arn, JOB), "rate(1 hour)")
    assert any("messageGroupId" in x for x in w) and any("content-based" in x for x in w)

    url, arn = make_queue("content.fifo", content_dedup=True)
    t = JobTarget("r", arn, JOB, message_group_id="g")
    assert any("dedupe: true" in x for x in queue_warnings(attrs(url), t, "rate(2 minutes)"))
    assert any("dedupe: true" in x for x in queue_warnings(attrs(url), t, "cron(0/2 * * * ? *)"))
    assert queue_warnings(attrs(url), t, "cron(5 * * * ? *)") == []
    assert queue_warnings(attrs(url), JobTarget("r", arn, JOB, message_group_id="g", dedupe=True),
                          "rate(1 minute)") == []

    url, arn = make_queue("kms", KmsMasterKeyId="alias/team-key", DelaySeconds="900")
    w = queue_warnings(attrs(url), JobTarget("r", arn, Job("x", life_time="5m")), "rate(1 hour)")
    assert any("alias/team-key" in x for x in w) and any("over its life_time" in x for x in w)
    assert queue_warnings(attrs(make_queue("ok")[0]), JobTarget("r", arn, JOB), "rate(1 minute)") == []
