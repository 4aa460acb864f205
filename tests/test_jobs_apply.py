"""sqsjkr job rules through the CLI against moto: apply (create disabled → target → enable), a diff with
nothing to say and a second apply with zero writes, pause with `disable`, FIFO group and dedupe, prune."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ACCOUNT, REGION, Result, client, count_of
from tests.sqsjkr_helpers import make_queue
from tests.test_backend_rules import WRITES

QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:sqsjkr-jobs"


def job_rule(name: str = "orders-export", **extra: Any) -> dict[str, Any]:
    return {"name": name, "scheduleExpression": "cron(0 * * * ? *)", "queue": "sqsjkr-jobs",
            "job": {"command": "php artisan export:orders", "envs": {"APP_ENV": "production"},
                    "lock_id": "export-orders", "life_time": "10m", "abort_if_locked": True}, **extra}


def write(tmp_path: Path, *rules: dict[str, Any], **top: Any) -> str:
    path = tmp_path / "ecsched.yaml"
    path.write_text(yaml.safe_dump({"region": REGION, "trackingId": "batch", **top, "rules": list(rules)}))
    return str(path)


def targets(rule: str) -> list[dict[str, Any]]:
    return list(client("events").list_targets_by_rule(Rule=rule)["Targets"])


def test_apply_creates_the_job_rule_and_a_second_apply_writes_nothing(
        aws: str, cli: Callable[..., Result], tmp_path: Path, calls: Counter[str]) -> None:
    make_queue()
    cfg = write(tmp_path, job_rule())
    first = cli("-c", cfg, "apply")
    assert first.code == 0, first.err
    ops = [op for op in calls if op in WRITES]
    assert {"PutRule", "PutTargets", "EnableRule"} <= set(ops)
    (t,) = targets("orders-export")
    assert t["Arn"] == QUEUE_ARN and "RoleArn" not in t
    assert json.loads(t["Input"]) == {"command": "php artisan export:orders", "envs": {"APP_ENV": "production"},
                                      "lock_id": "export-orders", "life_time": "10m", "abort_if_locked": True}
    assert client("events").describe_rule(Name="orders-export")["State"] == "ENABLED"
    assert cli("-c", cfg, "diff", "--exit-code").code == 0
    calls.clear()
    assert cli("-c", cfg, "apply").code == 0
    assert count_of(calls, WRITES) == 0, calls


def test_key_order_and_life_time_spelling_make_no_diff(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    make_queue()
    cfg = write(tmp_path, job_rule())
    assert cli("-c", cfg, "apply").code == 0
    # Someone rewrote the Input with another key order and life_time as seconds: the same job for sqsjkr.
    body = {"life_time": 600, "abort_if_locked": True, "lock_id": "export-orders",
            "envs": {"APP_ENV": "production"}, "command": "php artisan export:orders"}
    client("events").put_targets(Rule="orders-export", Targets=[{"Id": "orders-export", "Arn": QUEUE_ARN,
                                                                 "Input": json.dumps(body, indent=1)}])
    assert cli("-c", cfg, "diff", "--exit-code").code == 0


def test_a_changed_command_is_a_diff_and_apply_puts_it(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    make_queue()
    cfg = write(tmp_path, job_rule())
    assert cli("-c", cfg, "apply").code == 0
    rule = job_rule()
    rule["job"]["command"] = "php artisan export:orders --all"
    cfg = write(tmp_path, rule)
    diff = cli("-c", cfg, "diff", "--exit-code")
    assert diff.code == 2 and "export:orders --all" in diff.out
    assert cli("-c", cfg, "apply").code == 0
    assert json.loads(targets("orders-export")[0]["Input"])["command"] == "php artisan export:orders --all"
    assert cli("-c", cfg, "diff", "--exit-code").code == 0


def test_fifo_group_and_dedupe_through_apply(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                             calls: Counter[str]) -> None:
    make_queue("jobs.fifo", content_dedup=True)
    cfg = write(tmp_path, job_rule(queue="jobs.fifo", messageGroupId="exports", dedupe=True))
    assert cli("-c", cfg, "apply").code == 0
    (t,) = targets("orders-export")
    assert t["SqsParameters"] == {"MessageGroupId": "exports"}
    assert t["InputTransformer"]["InputPathsMap"] == {"time": "$.time"}
    assert json.loads(t["InputTransformer"]["InputTemplate"].replace("<time>", "2026-12-02T16:00:00Z"))[
        "scheduled_at"] == "2026-12-02T16:00:00Z"
    assert "Input" not in t
    assert cli("-c", cfg, "diff", "--exit-code").code == 0
    calls.clear()
    assert cli("-c", cfg, "apply").code == 0
    assert count_of(calls, WRITES) == 0, calls


def test_disable_pauses_the_job_in_the_file_and_apply_pauses_it_live(
        aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    make_queue()
    cfg = write(tmp_path, job_rule())
    assert cli("-c", cfg, "apply").code == 0
    paused = cli("-c", cfg, "disable", "orders-export")
    assert paused.code == 0, paused.err
    assert yaml.safe_load(Path(cfg).read_text())["rules"][0]["disabled"] is True
    assert cli("-c", cfg, "diff", "--exit-code").code == 2
    assert cli("-c", cfg, "apply").code == 0
    assert client("events").describe_rule(Name="orders-export")["State"] == "DISABLED"
    assert len(targets("orders-export")) == 1  # paused, not removed
    assert cli("-c", cfg, "diff", "--exit-code").code == 0


def test_prune_deletes_an_owned_job_rule_and_never_another_owners(
        aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    make_queue()
    (tmp_path / "other").mkdir()
    other = write(tmp_path / "other", job_rule("theirs"), trackingId="someone-else")
    assert cli("-c", other, "apply").code == 0
    cfg = write(tmp_path, job_rule(), job_rule("second"))
    assert cli("-c", cfg, "apply").code == 0
    cfg = write(tmp_path, job_rule())
    pruned = cli("-c", cfg, "apply", "--prune")
    assert pruned.code == 0, pruned.err
    names = {r["Name"] for r in client("events").list_rules()["Rules"]}
    assert names == {"orders-export", "theirs"}
    assert len(targets("theirs")) == 1


def test_an_untagged_job_rule_is_taken_only_with_adopt(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    """A Terraform-made rule: plain apply refuses it; --adopt tags it and changes nothing else."""
    make_queue()
    ev = client("events")
    ev.put_rule(Name="orders-export", ScheduleExpression="cron(0 * * * ? *)")
    body = {"command": "php artisan export:orders", "envs": {"APP_ENV": "production"}, "lock_id": "export-orders",
            "life_time": 600, "abort_if_locked": True}
    ev.put_targets(Rule="orders-export", Targets=[{"Id": "orders-export", "Arn": QUEUE_ARN,
                                                   "Input": json.dumps(body)}])
    cfg = write(tmp_path, job_rule())
    plain = cli("-c", cfg, "apply")
    assert plain.code != 0 and "--adopt" in plain.out + plain.err
    assert cli("-c", cfg, "apply", "--adopt").code == 0
    arn = ev.describe_rule(Name="orders-export")["Arn"]
    tags = {t["Key"]: t["Value"] for t in ev.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert tags["ecschedule:tracking-id"] == "batch"
    assert cli("-c", cfg, "diff", "--exit-code").code == 0


def test_a_job_rule_on_scheduler_gets_its_role_and_dedupe_placeholder(
        aws: str, cli: Callable[..., Result], tmp_path: Path, calls: Counter[str]) -> None:
    make_queue("jobs.fifo", content_dedup=True)
    cfg = write(tmp_path, job_rule(queue="jobs.fifo", messageGroupId="exports", dedupe=True,
                                   timezone="Asia/Tokyo"), backend="scheduler", role="sqsjkr-sender")
    first = cli("-c", cfg, "apply")
    assert first.code == 0, first.err
    got = client("scheduler").get_schedule(Name="orders-export", GroupName="ecsched-batch")
    t = got["Target"]
    assert t["Arn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs.fifo"
    assert t["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/sqsjkr-sender"
    assert t["SqsParameters"] == {"MessageGroupId": "exports"}
    assert json.loads(t["Input"])["scheduled_at"] == "<aws.scheduler.scheduled-time>"
    assert got["ScheduleExpressionTimezone"] == "Asia/Tokyo"
    assert cli("-c", cfg, "diff", "--exit-code").code == 0
    calls.clear()
    assert cli("-c", cfg, "apply").code == 0
    assert count_of(calls, WRITES | {"CreateSchedule", "UpdateSchedule"}) == 0, calls


def test_a_job_rule_on_scheduler_without_a_role_is_refused(aws: str, cli: Callable[..., Result],
                                                           tmp_path: Path) -> None:
    cfg = write(tmp_path, job_rule(), backend="scheduler")
    res = cli("-c", cfg, "validate")
    assert res.code == 1 and "needs `role:`" in res.out + res.err


def test_a_batch_moved_from_ecs_to_sqsjkr_keeps_one_target(aws: str, cli: Callable[..., Result],
                                                            tmp_path: Path) -> None:
    """The same rule name, an ECS task before and a job after: PutTargets replaces the target (same id)."""
    from tests.conftest import seed_ecs

    seed_ecs("api", ("export",))
    make_queue()
    ecs_rule = {"name": "orders-export", "scheduleExpression": "cron(0 * * * ? *)", "taskDefinition": "export"}
    cfg = write(tmp_path, ecs_rule, cluster="api")
    assert cli("-c", cfg, "apply").code == 0
    cfg = write(tmp_path, job_rule(), cluster="api")
    moved = cli("-c", cfg, "apply")
    assert moved.code == 0, moved.err
    (t,) = targets("orders-export")
    assert t["Arn"] == QUEUE_ARN and "EcsParameters" not in t
    assert cli("-c", cfg, "diff", "--exit-code").code == 0


def test_a_job_changed_outside_ecsched_is_drift(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    make_queue()
    cfg = write(tmp_path, job_rule())
    assert cli("-c", cfg, "apply").code == 0
    client("events").put_targets(Rule="orders-export", Targets=[{"Id": "orders-export", "Arn": QUEUE_ARN,
                                                                 "Input": json.dumps({"command": "rm -rf /"})}])
    diff = cli("-c", cfg, "diff", "--format", "json")
    (ch,) = json.loads(diff.out)["changes"]
    assert ch["action"] == "update" and ch["drift"] is True
