"""The engine's sqsjkr hooks against moto: the queue notes diff prints, `apply --fix-queue-policy` (one
statement, nothing else), and `dump --queue`. The hooks take schedules, so they are tested here with job
schedules built directly; the CLI tests that need job rules in the file skip until the model has them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecsched.aws import Aws
from ecsched.model import EcsTarget, Schedule
from ecsched.sqsjkr.job import Job
from ecsched.sqsjkr.target import JobTarget
from ecsched.sync import jobs
from tests.conftest import ACCOUNT, REGION, client
from tests.sqsjkr_helpers import make_queue
from tests.test_jobs_apply import job_rule, write

RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders-export"
OTHER = {"Sid": "Keep", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "sqs:ReceiveMessage", "Resource": "*"}


def job_schedule(name: str = "orders-export", queue: str = "sqsjkr-jobs", *, group: str | None = None,
                 expression: str = "cron(0 * * * ? *)", backend: str = "rules") -> Schedule:
    target = JobTarget(name, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
                       Job.from_config({"command": "php artisan export:orders", "lock_id": "export-orders"}),
                       message_group_id=group)
    return Schedule(name, expression, target, REGION, backend=backend, tracking_id="api")  # type: ignore[arg-type]


def ecs_schedule() -> Schedule:
    return Schedule("nightly", "cron(0 3 * * ? *)", EcsTarget("nightly", f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api",
                                                              "r", "td"), REGION)


def test_check_into_fixes_then_notes_and_skips_rules_not_written(aws: str) -> None:
    from ecsched.plan import Plan
    from ecsched.sync.engine import Planned

    url, _ = make_queue(policy={"Version": "2012-10-17", "Statement": [OTHER]})
    a = Aws(region=REGION)
    planned = Planned(Plan(), [], {})
    jobs.check_into(planned, a, [job_schedule(), job_schedule("failed-write")], skip={"failed-write"})
    assert list(planned.queue_notes) == ["orders-export"] and planned.queue_fixed == []
    assert planned.queue_notes["orders-export"][0].startswith("the queue policy does not let this rule send")
    jobs.check_into(planned, a, [job_schedule(), job_schedule("failed-write")], fix=True, skip={"failed-write"})
    assert planned.queue_fixed == [f"queue arn:aws:sqs:{REGION}:{ACCOUNT}:sqsjkr-jobs: added a statement letting "
                                   "rule orders-export send"]
    assert planned.queue_notes == {}  # read after the fix
    policy = json.loads(client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
                        ["Attributes"]["Policy"])
    assert policy["Statement"][0] == OTHER and len(policy["Statement"]) == 2


def test_a_queue_that_cannot_be_read_is_a_note_not_a_failure(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from ecsched.plan import Plan
    from ecsched.sync.engine import Planned
    from tests.fault_server import FaultServer

    make_queue()
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with FaultServer(aws) as fs:
        monkeypatch.setenv("AWS_ENDPOINT_URL", fs.url)
        fs.add("GetQueueAttributes", "500")
        planned = Planned(Plan(), [], {})
        jobs.check_into(planned, Aws(region=REGION), [job_schedule()], fix=True)
    assert planned.queue_error is not None and "InternalFailure" in planned.queue_error
    assert planned.queue_notes["orders-export"][0].startswith("could not read its queue: ")


def test_no_job_rules_no_calls(aws: str, calls: Any) -> None:
    from ecsched.plan import Plan
    from ecsched.sync.engine import Planned

    planned = Planned(Plan(), [], {})
    calls.clear()
    jobs.check_into(planned, Aws(region=REGION), [ecs_schedule()], fix=True)
    assert planned.queue_notes == {} and planned.queue_fixed == [] and sum(calls.values()) == 0


def test_dump_queue_prints_the_job_rules_in_the_files_spelling(aws: str, cli: Any) -> None:
    _, arn = make_queue()
    events = client("events")
    events.put_rule(Name="orders-export", ScheduleExpression="cron(0 * * * ? *)", State="DISABLED")
    events.put_targets(Rule="orders-export", Targets=[{"Id": "orders-export", "Arn": arn, "Input": json.dumps(
        {"lock_id": "export-orders", "command": "php artisan export:orders", "envs": {"APP_ENV": "production"}})}])
    events.put_rule(Name="raw-events", EventPattern='{"source":["aws.s3"]}')
    events.put_targets(Rule="raw-events", Targets=[{"Id": "raw", "Arn": arn}])
    res = cli("--region", REGION, "dump", "--queue", "sqsjkr-jobs", "--format", "json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc == {"region": REGION, "rules": [{
        "name": "orders-export", "scheduleExpression": "cron(0 * * * ? *)", "disabled": True, "queue": "sqsjkr-jobs",
        "job": {"command": "php artisan export:orders", "envs": {"APP_ENV": "production"},
                "lock_id": "export-orders"}}]}
    assert "rule raw-events: skipped" in res.err and "1 job rule send to" in res.err
    bad = cli("--region", REGION, "dump", "--queue", "not a queue!")
    assert bad.code == 1 and "--queue" in bad.err and "Traceback" not in bad.err


# --- through the CLI ---------------------------------------------------------------------------------------



def test_diff_warns_and_apply_fix_queue_policy_adds_the_statement(aws: str, cli: Any, tmp_path: Path) -> None:
    url, _ = make_queue(policy={"Version": "2012-10-17", "Statement": [OTHER]})
    cfg = Path(write(tmp_path, job_rule()))
    diff = cli("-c", str(cfg), "diff", "--exit-code")
    assert diff.code == 2 and "+ create orders-export" in diff.out
    assert "rule orders-export: the queue policy does not let this rule send" in diff.err
    md = cli("-c", str(cfg), "diff", "--format", "markdown").out
    assert "> **sqsjkr queues**" in md and "> - `orders-export`: the queue policy does not let this rule send" in md
    doc = json.loads(cli("-c", str(cfg), "diff", "--format", "json").out)
    assert doc["queueWarnings"]["orders-export"][0].startswith("the queue policy does not let this rule send")
    assert cli("-c", str(cfg), "apply").code == 0
    assert "does not let this rule send" in cli("-c", str(cfg), "diff").err  # apply alone leaves the policy
    fixed = cli("-c", str(cfg), "apply", "--fix-queue-policy")
    assert fixed.code == 0 and "~ queue arn:aws:sqs:" in fixed.err and "letting rule orders-export send" in fixed.err
    assert "does not let" not in fixed.err
    policy = json.loads(client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
                        ["Attributes"]["Policy"])
    assert policy["Statement"][0] == OTHER and len(policy["Statement"]) == 2
    clean = cli("-c", str(cfg), "diff")
    assert (clean.code, clean.out, clean.err) == (0, "", "")


def test_the_emulator_seeds_a_job_rules_queue_and_the_lock_table(aws: str) -> None:
    from ecsched.emulator import Emulator
    from ecsched.sqsjkr.policy import allows_send

    emu = Emulator(port=0, region=REGION)
    emu.start()
    try:
        lines = emu.seed([job_schedule(), job_schedule("other-job"), job_schedule("fifo-job", "jobs.fifo")],
                         lock_table="sqsjkr-lock")
        assert lines == ["sqsjkr lock table sqsjkr-lock (us-east-1)",
                         "queue sqsjkr-jobs (its policy lets the job rules send)",
                         "queue jobs.fifo (its policy lets the job rules send)"]
        sqs = client("sqs")
        url = sqs.get_queue_url(QueueName="sqsjkr-jobs")["QueueUrl"]
        policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
        for rule in ("orders-export", "other-job"):
            assert allows_send(policy, f"arn:aws:sqs:{REGION}:{ACCOUNT}:sqsjkr-jobs",
                               f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}").allowed
        fifo = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName="jobs.fifo")["QueueUrl"],
                                        AttributeNames=["All"])["Attributes"]
        assert fifo["FifoQueue"] == "true" and fifo["ContentBasedDeduplication"] == "true"
        keys = client("dynamodb").describe_table(TableName="sqsjkr-lock")["Table"]["KeySchema"]
        assert keys == [{"AttributeName": "Id", "KeyType": "HASH"}, {"AttributeName": "Type", "KeyType": "RANGE"}]
        emu.seed([job_schedule()], lock_table="sqsjkr-lock")  # again: no error, no second statement
        again = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
        assert again == policy and len(json.loads(policy)["Statement"]) == 2
    finally:
        emu.stop()


def test_without_a_lock_table_only_the_queue_is_seeded(aws: str) -> None:
    from ecsched.emulator import Emulator

    emu = Emulator(port=0, region=REGION)
    emu.start()
    try:
        assert emu.seed([job_schedule()]) == ["queue sqsjkr-jobs (its policy lets the job rules send)"]
        assert client("dynamodb").list_tables()["TableNames"] == []
    finally:
        emu.stop()


def test_apply_fix_queue_policy_works_on_a_rule_it_creates_in_the_same_run(aws: str, cli: Any, tmp_path: Path) -> None:
    make_queue()
    cfg = Path(write(tmp_path, job_rule()))
    res = cli("-c", str(cfg), "apply", "--fix-queue-policy")
    assert res.code == 0, res.err
    assert "+ orders-export: created" in res.err and "letting rule orders-export send" in res.err
    assert cli("-c", str(cfg), "diff").err == ""  # nothing left to warn about


def test_a_scheduler_job_rule_gets_no_policy_warning(aws: str, cli: Any, tmp_path: Path) -> None:
    make_queue()
    cfg = Path(write(tmp_path, job_rule(), backend="scheduler", role="ecsEventsRole"))
    res = cli("-c", str(cfg), "diff", "--exit-code")
    assert res.code == 2, res.err
    assert "queue policy" not in res.err


def test_the_demo_creates_pauses_and_runs_a_job_rule_and_the_message_arrives(
        aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse
    import io

    from ecsched.commands import demo
    from ecsched.context import Context
    from ecsched.emulator import Emulator

    emu = Emulator(port=0, region=REGION)
    emu.start()
    try:
        for k, v in emu.environ().items():  # as emu.activate() does, undone after the test
            monkeypatch.setenv(k, v)
        out, err = io.StringIO(), io.StringIO()
        ctx = Context(args=argparse.Namespace(), color=False, stdout=out, stderr=err)
        assert demo._jobs(ctx, emu, str(tmp_path), REGION, "api") == 0, out.getvalue() + err.getvalue()
        assert emu.client("events", REGION).describe_rule(Name="orders-export")["State"] == "DISABLED"
    finally:
        emu.stop()
    text = out.getvalue() + capsys.readouterr().out  # the steps' own output goes to the process's stdout
    assert "seeded queue sqsjkr-jobs" in text and "+ create orders-export" in text
    assert "~ update orders-export  (PAUSE)" in text
    [arrived] = [line for line in text.splitlines() if line.startswith("  message ")]
    assert '"event_id":"orders-export:manual:' in arrived and '"command":"php artisan export:orders"' in arrived
