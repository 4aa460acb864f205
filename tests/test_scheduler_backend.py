"""The EventBridge Scheduler backend end to end, through the CLI, against a moto server."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACCOUNT, REGION, Result, client, count_of

CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api"
GROUP = "ecsched-api"
WRITES = {"CreateSchedule", "UpdateSchedule", "DeleteSchedule", "CreateScheduleGroup", "TagResource",
          "DeleteScheduleGroup", "UntagResource"}


def writes(c: Counter[str]) -> int:
    return count_of(c, WRITES)


def write_config(tmp_path: Path, rules: list[dict[str, Any]], **top: Any) -> str:
    doc = {"region": REGION, "cluster": "api", "role": "ecsSchedulerRole", "backend": "scheduler", **top,
           "rules": rules}
    path = tmp_path / "ecsched.yaml"
    path.write_text(json.dumps(doc, ensure_ascii=False))  # JSON is YAML
    return str(path)


def rule(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "scheduleExpression": "cron(0 3 * * ? *)", "taskDefinition": "task1", **extra}


def get(name: str, group: str = GROUP) -> dict[str, Any]:
    out = dict(client("scheduler").get_schedule(Name=name, GroupName=group))
    out.pop("ResponseMetadata", None)
    for k in ("CreationDate", "LastModificationDate"):
        out.pop(k, None)
    return out


def group_tags(group: str) -> dict[str, str]:
    arn = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{group}"
    return {t["Key"]: t["Value"] for t in client("scheduler").list_tags_for_resource(ResourceArn=arn)["Tags"]}


def names_in(group: str) -> list[str]:
    return sorted(s["Name"] for s in client("scheduler").list_schedules(GroupName=group)["Schedules"])


FUTURE = (datetime.now(UTC) + timedelta(days=400)).year

FULL = rule(
    "report", description="nightly report", scheduleExpression="cron(30 9 ? * MON-FRI *)",
    timezone="Asia/Tokyo", flexibleTimeWindow=15, startDate=f"{FUTURE}-01-01", endDate=f"{FUTURE + 1}-01-01T00:00:00Z",
    retryPolicy={"maximumRetryAttempts": 3}, dead_letter_config={"sqs": "dlq"}, tags={"team": "data", "cost": "1"},
    taskCount=2, launch_type="FARGATE", platform_version="1.4.0", propagateTags="TASK_DEFINITION",
    enableExecuteCommand=True, group="batch",
    network_configuration={"aws_vpc_configuration": {"subnets": ["subnet-b", "subnet-a"],
                                                     "security_groups": ["sg-1"], "assign_public_ip": "ENABLED"}},
    containerOverrides=[{"name": "app", "command": ["php", "artisan", "report"], "environment": {"MODE": "full"}}],
    taskOverride={"cpu": "512", "memory": "1024"},
)


# --- apply, read back, diff clean ----------------------------------------------------------------


def test_apply_sends_the_full_schedule_and_the_diff_is_clean_after(aws: str, cli: Callable[..., Result],
                                                                   calls: Counter[str], tmp_path: Path) -> None:
    path = write_config(tmp_path, [FULL])
    res = cli("-c", path, "apply")
    assert res.code == 0, res.err
    assert "CreateScheduleGroup, CreateSchedule" in res.err
    assert group_tags(GROUP) == {"ecschedule:tracking-id": "api"}
    s = get("report")
    assert s["ScheduleExpression"] == "cron(30 9 ? * MON-FRI *)"
    assert s["ScheduleExpressionTimezone"] == "Asia/Tokyo"
    assert s["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert s["State"] == "ENABLED"
    assert s["Description"] == "nightly report"
    # startDate without an offset is read in the schedule's zone.
    assert s["StartDate"].astimezone(UTC) == datetime(FUTURE - 1, 12, 31, 15, tzinfo=UTC)
    assert s["EndDate"].astimezone(UTC) == datetime(FUTURE + 1, 1, 1, tzinfo=UTC)
    t = s["Target"]
    assert t["Arn"] == CLUSTER_ARN
    assert t["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/ecsSchedulerRole"
    assert t["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 86400}
    assert t["DeadLetterConfig"] == {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"}
    ecs = t["EcsParameters"]
    assert ecs["Tags"] == [{"key": "cost", "value": "1"}, {"key": "team", "value": "data"}]  # list of maps
    assert ecs["TaskCount"] == 2 and ecs["LaunchType"] == "FARGATE" and ecs["EnableExecuteCommand"] is True
    assert ecs["NetworkConfiguration"] == {"awsvpcConfiguration": {
        "Subnets": ["subnet-a", "subnet-b"], "SecurityGroups": ["sg-1"], "AssignPublicIp": "ENABLED"}}
    assert json.loads(t["Input"]) == {
        "containerOverrides": [{"name": "app", "command": ["php", "artisan", "report"],
                                "environment": [{"name": "MODE", "value": "full"}]}],
        "cpu": "512", "memory": "1024"}

    res = cli("-c", path, "diff", "--exit-code")
    assert res.code == 0, res.out
    calls.clear()
    assert cli("-c", path, "apply").code == 0
    assert writes(calls) == 0, calls
    # Reading: groups, their tags, the group's schedules, then one GetSchedule.
    assert calls["GetSchedule"] == 1 and calls["ListSchedules"] == 1


def test_aws_defaults_read_back_as_not_set(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    # No retryPolicy: moto (like AWS) fills in 185 attempts / 86,400 s. An explicit all-default policy,
    # `flexibleTimeWindow: off` and `actionAfterCompletion: NONE` are the same thing as leaving them out.
    path = write_config(tmp_path, [rule("plain")])
    assert cli("-c", path, "apply").code == 0
    assert get("plain")["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}
    assert get("plain")["ScheduleExpressionTimezone"] == "UTC"
    assert cli("-c", path, "diff", "--exit-code").code == 0
    same = rule("plain", retryPolicy={"maximumRetryAttempts": 185, "maximumEventAgeInSeconds": 86400},
                flexibleTimeWindow="off", actionAfterCompletion="NONE", timezone="UTC")
    path = write_config(tmp_path, [same])
    res = cli("-c", path, "diff", "--exit-code")
    assert res.code == 0, res.out
    # A schedule written by hand without RetryPolicy or timezone reads the same way.
    sc = client("scheduler")
    sc.create_schedule(Name="handmade", GroupName=GROUP, ScheduleExpression="cron(0 3 * * ? *)",
                       FlexibleTimeWindow={"Mode": "OFF"},
                       Target={"Arn": CLUSTER_ARN, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsSchedulerRole",
                               "EcsParameters": {"TaskDefinitionArn":
                                                 f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/task1"}})
    path = write_config(tmp_path, [rule("plain"), rule("handmade")])
    res = cli("-c", path, "diff", "--exit-code")
    assert res.code == 0, res.out


def test_update_replaces_everything_so_the_full_definition_is_sent(aws: str, cli: Callable[..., Result],
                                                                   calls: Counter[str], tmp_path: Path) -> None:
    path = write_config(tmp_path, [FULL])
    assert cli("-c", path, "apply").code == 0
    before = get("report")
    path = write_config(tmp_path, [{**FULL, "description": "new words"}])
    res = cli("-c", path, "diff")
    assert "~ update report" in res.out
    assert "-description: nightly report" in res.out and "+description: new words" in res.out
    calls.clear()
    assert cli("-c", path, "apply").code == 0
    assert calls["UpdateSchedule"] == 1 and writes(calls) == 1
    after = get("report")
    assert after == {**before, "Description": "new words"}
    assert cli("-c", path, "diff", "--exit-code").code == 0


def test_pause_and_resume(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    path = write_config(tmp_path, [rule("job")])
    assert cli("-c", path, "apply").code == 0
    path = write_config(tmp_path, [rule("job", disabled=True)])
    res = cli("-c", path, "diff")
    assert "PAUSE" in res.out and "scheduler" in res.out
    assert cli("-c", path, "apply").code == 0
    assert get("job")["State"] == "DISABLED"
    assert cli("-c", path, "diff", "--exit-code").code == 0
    path = write_config(tmp_path, [rule("job")])
    assert "RESUME" in cli("-c", path, "diff").out
    assert cli("-c", path, "apply").code == 0
    assert get("job")["State"] == "ENABLED"


def test_set_state_keeps_the_rest_of_the_schedule(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    from ecsched.aws import Aws
    from ecsched.backends.scheduler import SchedulerBackend

    path = write_config(tmp_path, [FULL])
    assert cli("-c", path, "apply").code == 0
    before = get("report")
    backend = SchedulerBackend(Aws(region=REGION), REGION)
    backend.set_state("report", False)
    assert get("report") == {**before, "State": "DISABLED"}
    backend.set_state("report", True)
    assert get("report") == before


def test_dedupe_passes_the_scheduled_time_and_reads_back_clean(aws: str, cli: Callable[..., Result],
                                                               tmp_path: Path) -> None:
    path = write_config(tmp_path, [rule("locked", dedupe=True, containerOverrides=[
        {"name": "app", "command": ["ecsched", "lock", "--", "php", "artisan", "x"], "environment": {"A": "1"}}])])
    assert cli("-c", path, "apply").code == 0
    env = json.loads(get("locked")["Target"]["Input"])["containerOverrides"][0]["environment"]
    assert env == [{"name": "A", "value": "1"},
                   {"name": "ECSCHED_SCHEDULED_TIME", "value": "<aws.scheduler.scheduled-time>"},
                   {"name": "ECSCHED_RULE", "value": "locked"}]
    assert cli("-c", path, "diff", "--exit-code").code == 0
    # Turning dedupe off is a change, and takes the variables out.
    path = write_config(tmp_path, [rule("locked", containerOverrides=[
        {"name": "app", "command": ["ecsched", "lock", "--", "php", "artisan", "x"], "environment": {"A": "1"}}])])
    res = cli("-c", path, "diff", "--exit-code")
    assert res.code == 2 and "-dedupe: true" in res.out
    assert cli("-c", path, "apply").code == 0
    env = json.loads(get("locked")["Target"]["Input"])["containerOverrides"][0]["environment"]
    assert env == [{"name": "A", "value": "1"}]


def test_one_time_schedule(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    at = f"at({FUTURE}-03-01T09:00:00)"
    path = write_config(tmp_path, [rule("once", scheduleExpression=at, timezone="Asia/Tokyo",
                                        actionAfterCompletion="DELETE")])
    assert cli("-c", path, "apply").code == 0
    s = get("once")
    assert s["ScheduleExpression"] == at and s["ActionAfterCompletion"] == "DELETE"
    assert cli("-c", path, "diff", "--exit-code").code == 0
    # One whose time has passed is not created: one clear message, no traceback.
    path = write_config(tmp_path, [rule("late", scheduleExpression="at(2020-01-01T00:00:00)")])
    res = cli("-c", path, "apply")
    assert res.code == 1
    assert "at(2020-01-01T00:00:00) in UTC has already passed" in res.err
    assert "Traceback" not in res.err
    assert names_in(GROUP) == ["once"]


def test_next_fire_times_in_the_zone_with_utc_beside(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    path = write_config(tmp_path, [rule("tokyo", scheduleExpression="cron(30 9 * * ? *)", timezone="Asia/Tokyo")])
    md = cli("-c", path, "diff", "--format", "markdown").out
    line = next(x for x in md.splitlines() if "next " in x)
    assert "09:30 JST (" in line and " 00:30 UTC)" in line, line
    data = json.loads(cli("-c", path, "diff", "--format", "json").out)
    nxt = data["changes"][0]["schedule"]["next"]
    assert len(nxt) == 3 and all(n.endswith("00:30 UTC)") and "09:30 JST" in n for n in nxt)
    assert data["changes"][0]["backend"] == "scheduler"


# --- ownership and prune -------------------------------------------------------------------------


def _foreign(name: str, group: str) -> None:
    client("scheduler").create_schedule(
        Name=name, GroupName=group, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": CLUSTER_ARN, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/x",
                "EcsParameters": {"TaskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/task1"}})


def test_prune_deletes_only_schedules_in_our_group(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    sc = client("scheduler")
    sc.create_schedule_group(Name="terraform")  # someone else's, untagged
    sc.create_schedule_group(Name="ecsched-other", Tags=[{"Key": "ecschedule:tracking-id", "Value": "other"}])
    _foreign("theirs", "terraform")
    _foreign("theirs", "default")
    _foreign("other-team", "ecsched-other")
    path = write_config(tmp_path, [rule("keep"), rule("gone")])
    assert cli("-c", path, "apply").code == 0
    path = write_config(tmp_path, [rule("keep")])
    res = cli("-c", path, "diff", "--prune")
    assert "- delete gone" in res.out
    assert "theirs" not in res.out and "other-team" not in res.out
    assert cli("-c", path, "apply", "--prune").code == 0
    assert names_in(GROUP) == ["keep"]
    assert names_in("terraform") == ["theirs"] and names_in("default") == ["theirs"]
    assert names_in("ecsched-other") == ["other-team"]
    assert group_tags("terraform") == {}


def test_a_group_that_is_not_ours_is_never_written(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    sc = client("scheduler")
    sc.create_schedule_group(Name="terraform")
    _foreign("theirs", "terraform")
    path = write_config(tmp_path, [rule("job", scheduleGroup="terraform")])
    res = cli("-c", path, "apply")
    assert res.code == 1
    assert "schedule group `terraform` is not ecsched's" in res.err
    assert "Traceback" not in res.err
    assert names_in("terraform") == ["theirs"] and group_tags("terraform") == {}
    # Another trackingId's group: refused the same way.
    sc.create_schedule_group(Name="ecsched-other", Tags=[{"Key": "ecschedule:tracking-id", "Value": "other"}])
    path = write_config(tmp_path, [rule("job", scheduleGroup="ecsched-other")])
    res = cli("-c", path, "apply")
    assert res.code == 1 and "it belongs to trackingId `other`" in res.err
    assert names_in("ecsched-other") == []


def test_a_schedule_in_our_group_that_is_not_an_ecs_task_is_a_conflict(aws: str, cli: Callable[..., Result],
                                                                         tmp_path: Path) -> None:
    path = write_config(tmp_path, [rule("job")])
    assert cli("-c", path, "apply").code == 0
    client("scheduler").create_schedule(
        Name="lambda", GroupName=GROUP, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f", "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/x"})
    before = get("lambda")
    path = write_config(tmp_path, [rule("job"), rule("lambda")])
    res = cli("-c", path, "apply")
    assert res.code == 1
    assert "lambda: refused" in res.err and "not an ECS task" in res.err
    assert get("lambda") == before


def test_changing_the_group_moves_the_schedule(aws: str, cli: Callable[..., Result], calls: Counter[str],
                                               tmp_path: Path) -> None:
    path = write_config(tmp_path, [rule("job")])
    assert cli("-c", path, "apply").code == 0
    path = write_config(tmp_path, [rule("job")], scheduleGroup="batch-jobs")
    res = cli("-c", path, "diff")
    assert "+scheduleGroup: batch-jobs" in res.out
    calls.clear()
    res = cli("-c", path, "apply")
    assert res.code == 0, res.err
    assert calls["DeleteSchedule"] == 1 and calls["CreateSchedule"] == 1
    assert names_in(GROUP) == [] and names_in("batch-jobs") == ["job"]
    assert group_tags("batch-jobs") == {"ecschedule:tracking-id": "api"}
    assert cli("-c", path, "diff", "--exit-code").code == 0


def test_rules_and_schedules_in_one_file(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    path = write_config(tmp_path, [rule("on-rules", backend="rules"), rule("on-scheduler")])
    res = cli("-c", path, "apply")
    assert res.code == 0, res.err
    assert [r["Name"] for r in client("events").list_rules()["Rules"]] == ["on-rules"]
    assert names_in(GROUP) == ["on-scheduler"]
    assert cli("-c", path, "diff", "--exit-code").code == 0


# --- config errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(("extra", "message"), [
    ({"flexibleTimeWindow": 0}, "flexibleTimeWindow 0 is out of range: `off`, or 1-1440 minutes"),
    ({"flexibleTimeWindow": "soon"}, "flexibleTimeWindow must be `off` or a number of minutes (1-1440), not `soon`"),
    ({"startDate": "next tuesday"}, "`next tuesday` is not a date"),
    ({"startDate": f"{FUTURE}-02-01", "endDate": f"{FUTURE}-01-01"}, "is not after startDate"),
    ({"dedupe": True}, "dedupe needs containerOverrides"),
])
def test_bad_scheduler_settings_are_one_clear_message(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                                      extra: dict[str, Any], message: str) -> None:
    path = write_config(tmp_path, [rule("job", **extra)])
    res = cli("-c", path, "diff")
    assert res.code == 1
    assert message in res.err
    assert f"{path}:" in res.err and "rule job:" in res.err
    assert "Traceback" not in res.err


def test_a_start_date_that_has_passed_is_the_same_as_none(aws: str, cli: Callable[..., Result],
                                                          tmp_path: Path) -> None:
    # AWS rejects a StartDate more than 5 minutes old on every write, and a past one does nothing.
    path = write_config(tmp_path, [rule("job", startDate="2020-01-01T00:00:00Z")])
    assert cli("-c", path, "apply").code == 0
    assert "StartDate" not in get("job")
    assert cli("-c", path, "diff", "--exit-code").code == 0


# --- dump ----------------------------------------------------------------------------------------


def test_dump_schedules_round_trips(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    path = write_config(tmp_path, [FULL, rule("plain"), rule("moved", scheduleGroup="batch-jobs")])
    assert cli("-c", path, "apply").code == 0
    _foreign("theirs", "default")  # not in an ecsched group: not dumped unless asked for
    res = cli("dump", "--cluster", "api", "--region", REGION, "--backend", "scheduler")
    assert res.code == 0, res.err
    assert "3 schedules target" in res.err
    import yaml

    doc = yaml.safe_load(res.out)
    assert doc["backend"] == "scheduler" and doc["role"] == "ecsSchedulerRole"
    by_name = {r["name"]: r for r in doc["rules"]}
    assert sorted(by_name) == ["moved", "plain", "report"]
    assert by_name["report"]["timezone"] == "Asia/Tokyo" and by_name["report"]["flexibleTimeWindow"] == 15
    assert "scheduleGroup" not in by_name["plain"] and by_name["moved"]["scheduleGroup"] == "batch-jobs"
    dumped = tmp_path / "dumped.yaml"
    dumped.write_text(res.out)
    res = cli("-c", str(dumped), "diff", "--exit-code")
    assert res.code == 0, res.out
    # Any group can be read (reading is harmless); rules are still the default.
    res = cli("dump", "--cluster", "api", "--region", REGION, "--backend", "scheduler", "--schedule-group", "default")
    assert [r["name"] for r in yaml.safe_load(res.out)["rules"]] == ["theirs"]
    assert yaml.safe_load(cli("dump", "--cluster", "api", "--region", REGION).out)["rules"] == []


def test_run_dry_run_takes_a_scheduler_rule_like_any_other(aws: str, cli: Callable[..., Result],
                                                           tmp_path: Path) -> None:
    path = write_config(tmp_path, [FULL])
    res = cli("-c", path, "run", "--rule", "report", "--dry-run")
    assert res.code == 0, res.err
    request = json.loads(res.out)
    assert request["cluster"] == CLUSTER_ARN and request["count"] == 2
    assert request["overrides"]["containerOverrides"][0]["command"] == ["php", "artisan", "report"]


def test_a_schedule_whose_rule_still_runs_is_a_conflict(aws: str, cli: Callable[..., Result],
                                                        tmp_path: Path) -> None:
    # Switching `backend:` by hand would run the task twice (the rule and the schedule): apply refuses.
    path = write_config(tmp_path, [rule("job")], backend="rules")
    assert cli("-c", path, "apply").code == 0
    path = write_config(tmp_path, [rule("job"), rule("new")])
    res = cli("-c", path, "apply")
    assert res.code == 1
    assert "the EventBridge rule job still runs this task" in res.err
    assert "ecsched migrate --to scheduler --rule job" in res.err
    assert names_in(GROUP) == ["new"]
    # A rule that is not ecsched's is none of its business.
    client("events").put_rule(Name="theirs", ScheduleExpression="rate(1 hour)")
    path = write_config(tmp_path, [rule("new"), rule("theirs")])
    res = cli("-c", path, "apply")
    assert res.code == 0, res.err
    assert names_in(GROUP) == ["new", "theirs"]


def test_disable_and_enable_now_flip_the_live_schedule(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "ecsched.yaml"
    path.write_text("region: us-east-1\ncluster: api\nbackend: scheduler\ntimezone: Asia/Tokyo\nrules:\n"
                    "  - name: job\n    scheduleExpression: cron(0 3 * * ? *)\n    taskDefinition: task1\n"
                    "    flexibleTimeWindow: 5\n")
    assert cli("-c", str(path), "apply").code == 0
    before = get("job")
    res = cli("-c", str(path), "disable", "job", "--now")
    assert res.code == 0, res.err
    assert get("job") == {**before, "State": "DISABLED"}
    assert cli("-c", str(path), "diff", "--exit-code").code == 0  # the file says disabled too
    res = cli("-c", str(path), "enable", "job", "--now")
    assert res.code == 0, res.err
    assert get("job") == before
    assert cli("-c", str(path), "diff", "--exit-code").code == 0
