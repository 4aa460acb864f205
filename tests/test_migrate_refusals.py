"""What `ecsched migrate` refuses, each with the way out: a rule that differs from the file, a rule it
does not own, a role Scheduler cannot assume, nothing live."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ACCOUNT, REGION, Result, client
from tests.migrate_helpers import (
    CONFIG,
    EVENTS_AND_SCHEDULER,
    QUIET,
    FakeClock,
    rules,
    schedules,
)

pytest_plugins = ["tests.migrate_fixtures"]  # the `migrate`, `ops` and `setup` fixtures


def test_refuses_a_rule_that_differs_from_the_file(setup: Path, cli: Callable[..., Result],
                                                   migrate: Callable[..., Result]) -> None:
    clock = FakeClock(QUIET)
    setup.write_text(CONFIG.replace("cron(0 3 * * ? *)", "cron(0 4 * * ? *)"))
    res = migrate(clock, "-c", str(setup), "--rule", "cleanup")
    assert res.code == 1
    assert "the live rule differs from the file (scheduleExpression): run `ecsched apply --rule cleanup` first" \
        in res.err
    assert schedules() == {} and rules()["cleanup"] == "ENABLED"


def test_refuses_a_rule_ecsched_does_not_own(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                             migrate: Callable[..., Result]) -> None:
    client("iam").create_role(RoleName="ecsEventsRole", AssumeRolePolicyDocument=json.dumps(EVENTS_AND_SCHEDULER))
    ev = client("events")
    ev.put_rule(Name="cleanup", ScheduleExpression="cron(0 18 * * ? *)")
    ev.put_targets(Rule="cleanup", Targets=[{
        "Id": "cleanup", "Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api",
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsEventsRole",
        "EcsParameters": {"TaskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/task1"}}])
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    clock = FakeClock(QUIET)
    res = migrate(clock, "-c", str(path), "--rule", "cleanup")
    assert res.code == 1
    assert "rule cleanup is not ecsched's (no ecschedule:tracking-id tag" in res.err
    assert rules() == {"cleanup": "ENABLED"}
    assert client("scheduler").list_schedule_groups()["ScheduleGroups"][-1]["Name"] == "default"


def test_refuses_a_role_scheduler_cannot_assume(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                                migrate: Callable[..., Result]) -> None:
    events_only = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "events.amazonaws.com"}}]}
    client("iam").create_role(RoleName="ecsEventsRole", AssumeRolePolicyDocument=json.dumps(events_only))
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    assert cli("-c", str(path), "apply").code == 0
    clock = FakeClock(QUIET)
    res = migrate(clock, "-c", str(path))
    assert res.code == 1
    assert "does not trust scheduler.amazonaws.com" in res.err
    assert rules() == {"report": "ENABLED", "cleanup": "ENABLED"}
    assert path.read_text() == CONFIG


def test_nothing_live_is_an_error_with_the_way_out(aws: str, tmp_path: Path, migrate: Callable[..., Result]) -> None:
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    clock = FakeClock(QUIET)
    res = migrate(clock, "-c", str(path), "--rule", "nope*")
    assert res.code == 1 and "no rule in the file matches nope*" in res.err
    res = migrate(clock, "-c", str(path), "--rule", "cleanup")
    assert res.code == 1 and "neither a rule nor a schedule named cleanup is live" in res.err


def test_one_role_read_per_run(setup: Path, migrate: Callable[..., Result], ops: list[str]) -> None:
    # Both rules use the same role: read once in a run, and again in the next run (no cache across runs).
    res = migrate(FakeClock(QUIET), "-c", str(setup), "--dry-run")
    assert res.code == 0, res.err
    assert ops.count("GetRole") == 1
    assert migrate(FakeClock(QUIET), "-c", str(setup), "--dry-run").code == 0
    assert ops.count("GetRole") == 2
