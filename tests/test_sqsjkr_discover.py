"""dump for sqsjkr: a Terraform-made setup in moto becomes file rules that validate and mean the same job."""

from __future__ import annotations

import json

from ecsched.sqsjkr.discover import rules_for_queue
from ecsched.sqsjkr.job import Job
from ecsched.sqsjkr.rule import job_rule_to_config, job_target_from_rule
from ecsched.sqsjkr.target import JobTarget, NotOurs
from ecsched.sqsjkr.validate import rule_problems
from tests.conftest import ACCOUNT, REGION, client
from tests.sqsjkr_helpers import make_queue


def terraform_setup(queue_arn: str, dlq_arn: str) -> None:
    """What an aws_cloudwatch_event_target for sqsjkr usually looks like: jsonencode()d Input, any key order."""
    events = client("events")
    events.put_rule(Name="orders-export", ScheduleExpression="cron(0 * * * ? *)", Description="hourly export")
    events.put_targets(Rule="orders-export", Targets=[{
        "Id": "sqsjkr", "Arn": queue_arn, "DeadLetterConfig": {"Arn": dlq_arn},
        "Input": json.dumps({"life_time": "10m", "envs": {"APP_ENV": "production", "DB_PASSWORD": "hunter2"},
                             "lock_id": "export-orders", "command": "php artisan export:orders",
                             "abort_if_locked": True})}])
    events.put_rule(Name="nightly-report", ScheduleExpression="cron(0 18 * * ? *)", State="DISABLED")
    events.put_targets(Rule="nightly-report", Targets=[{"Id": "nightly-report", "Arn": queue_arn,
                                                        "Input": '{"command":"php artisan report"}'}])
    events.put_rule(Name="raw-events", EventPattern='{"source":["aws.s3"]}')
    events.put_targets(Rule="raw-events", Targets=[{"Id": "raw", "Arn": queue_arn}])  # the whole event
    events.put_rule(Name="elsewhere", ScheduleExpression="rate(1 hour)")
    events.put_targets(Rule="elsewhere", Targets=[{"Id": "x", "Arn": make_queue("other")[1],
                                                   "Input": '{"command":"x"}'}])


def test_dump_finds_every_rule_on_the_queue(aws: str) -> None:
    _, arn = make_queue()
    _, dlq = make_queue("sqsjkr-dlq")
    terraform_setup(arn, dlq)
    found = {f.rule["Name"]: f for f in rules_for_queue(client("events"), arn)}
    assert set(found) == {"orders-export", "nightly-report", "raw-events"}
    raw = found["raw-events"].target
    assert isinstance(raw, NotOurs) and "whole event" in raw.reason

    t = found["orders-export"].target
    assert isinstance(t, JobTarget)
    cfg = job_rule_to_config(found["orders-export"].rule, t, account=ACCOUNT, region=REGION)
    assert cfg == {
        "name": "orders-export", "description": "hourly export", "scheduleExpression": "cron(0 * * * ? *)",
        "targetId": "sqsjkr", "queue": "sqsjkr-jobs",
        "job": {"command": "php artisan export:orders",
                "envs": {"APP_ENV": "production", "DB_PASSWORD": "hunter2"},
                "lock_id": "export-orders", "life_time": "10m", "abort_if_locked": True},
        "dead_letter_config": {"sqs": "sqsjkr-dlq"},
    }
    assert rule_problems(cfg) == []
    assert Job.from_config(cfg["job"]) == t.job  # adopting it changes nothing

    n = found["nightly-report"].target
    assert isinstance(n, JobTarget)
    ncfg = job_rule_to_config(found["nightly-report"].rule, n, account=ACCOUNT, region="eu-west-1")
    assert ncfg["disabled"] is True and ncfg["queue"] == arn and "targetId" not in ncfg


def test_dump_masks_secret_envs(aws: str) -> None:
    _, arn = make_queue()
    terraform_setup(arn, make_queue("sqsjkr-dlq")[1])
    (f,) = [f for f in rules_for_queue(client("events"), arn) if f.rule["Name"] == "orders-export"]
    assert isinstance(f.target, JobTarget)
    cfg = job_rule_to_config(f.rule, f.target, account=ACCOUNT, region=REGION,
                             mask_env=lambda env: {k: "***" if "PASSWORD" in k else v for k, v in env.items()})
    assert cfg["job"]["envs"] == {"APP_ENV": "production", "DB_PASSWORD": "***"}


def test_file_rule_to_target_and_back_is_the_same_rule(aws: str) -> None:
    """build, apply (PutTargets), read back, dump: the rule the person wrote."""
    from ecsched.sqsjkr.target import job_target_from_rule_target, rule_target_params

    written = {"name": "orders-export", "scheduleExpression": "cron(0 * * * ? *)", "queue": "jobs.fifo",
               "messageGroupId": "batch", "dedupe": True,
               "job": {"command": "php artisan export:orders", "envs": {"APP_ENV": "production"},
                       "lock_id": "export-orders", "life_time": "10m", "abort_if_locked": True},
               "dead_letter_config": {"sqs": "sqsjkr-dlq"}, "retryPolicy": {"maximumRetryAttempts": 2}}
    assert rule_problems(written) == []
    t = job_target_from_rule(written, account=ACCOUNT, region=REGION)
    assert t.queue_arn == f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs.fifo"
    events = client("events")
    events.put_rule(Name="orders-export", ScheduleExpression=written["scheduleExpression"])
    events.put_targets(Rule="orders-export", Targets=[rule_target_params(t)])
    (live,) = events.list_targets_by_rule(Rule="orders-export")["Targets"]
    back = job_target_from_rule_target(live)
    assert back == t and isinstance(back, JobTarget)
    rule = events.describe_rule(Name="orders-export")
    assert job_rule_to_config(rule, back, account=ACCOUNT, region=REGION) == written
