"""The `history:` resources against moto: create, no-op, drift, update, conflict, prune."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecsched.arns import Account
from ecsched.aws import Aws
from ecsched.insight import sink
from ecsched.insight.settings import History
from ecsched.model import TRACKING_TAG, EcsTarget, Schedule
from tests.conftest import ACCOUNT, REGION, client


def schedule(name: str, cluster: str = "api", tracking: str = "api") -> Schedule:
    target = EcsTarget(name, f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}", "arn:aws:iam::1:role/r",
                       f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/app:1")
    return Schedule(name, "cron(0 3 * * ? *)", target, REGION, tracking_id=tracking)


def setup(retention: int | None = 30, clusters: tuple[str, ...] = ("api",)) -> tuple[Aws, sink.Desired]:
    hist = History("/ecsched/history", retention, "ecsched.yaml")
    [d] = sink.desired(hist, [schedule(f"job-{c}", c) for c in clusters], Account(ACCOUNT))
    return Aws(region=REGION), d


def actions(changes: list[sink.Change]) -> list[tuple[str, str]]:
    return [(c.resource, c.action) for c in changes]


def test_desired_pattern_and_policy_as_the_notes_say() -> None:
    _, d = setup(clusters=("api", "batch"))
    assert d.rule_name == "ecsched-history-api"
    assert json.loads(d.pattern) == {"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"], "detail": {
        "clusterArn": [f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api", f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/batch"],
        "lastStatus": ["STOPPED"]}}
    stmt = json.loads(d.policy)["Statement"][0]
    assert "events.amazonaws.com" in stmt["Principal"]["Service"]
    assert stmt["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert stmt["Resource"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecsched/history:*"


def test_create_then_noop_then_drift_is_repaired(aws: str) -> None:
    a, d = setup()
    first = sink.plan(d, sink.read(a, d))
    assert actions(first) == [("log-group", "create"), ("policy", "create"), ("rule", "create")]
    sink.apply(a, d, first)
    events, logs = client("events"), client("logs")
    [target] = events.list_targets_by_rule(Rule=d.rule_name)["Targets"]
    assert target["Arn"] == d.log_group_arn
    tags = {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=d.rule_arn)["Tags"]}
    assert tags == {TRACKING_TAG: "api", sink.PURPOSE_TAG: "history"}
    [group] = logs.describe_log_groups(logGroupNamePrefix="/ecsched/history")["logGroups"]
    assert group["retentionInDays"] == 30
    assert actions(sink.plan(d, sink.read(a, d))) == [("log-group", "noop"), ("policy", "noop"), ("rule", "noop")]
    # someone edits the rule (PutRule drops the description) and the retention by hand: apply repairs both
    events.put_rule(Name=d.rule_name, EventPattern=json.dumps({"source": ["aws.ecs"]}), State="DISABLED")
    logs.put_retention_policy(logGroupName=d.log_group, retentionInDays=7)
    drift = sink.plan(d, sink.read(a, d))
    assert actions(drift) == [("log-group", "update"), ("policy", "noop"), ("rule", "update")]
    rule_fields = {f for f, _, _ in drift[2].fields}
    assert rule_fields == {"EventPattern", "State", "Description"} and drift[0].fields == (("retentionDays", 7, 30),)
    assert "~ history rule ecsched-history-api" in sink.describe(drift[2])
    sink.apply(a, d, drift)
    assert actions(sink.plan(d, sink.read(a, d))) == [("log-group", "noop"), ("policy", "noop"), ("rule", "noop")]


def test_retention_change_and_removal(aws: str) -> None:
    a, d = setup(30)
    sink.apply(a, d, sink.plan(d, sink.read(a, d)))
    _, forever = setup(None)
    change = sink.plan(forever, sink.read(a, forever))
    assert change[0].action == "update" and change[0].fields == (("retentionDays", 30, None),)
    sink.apply(a, forever, change)
    assert "retentionInDays" not in client("logs").describe_log_groups(logGroupNamePrefix=d.log_group)["logGroups"][0]


def test_rule_not_ours_is_a_conflict_and_nothing_changes(aws: str) -> None:
    a, d = setup()
    client("events").put_rule(Name=d.rule_name, EventPattern=json.dumps({"source": ["x"]}))
    changes = sink.plan(d, sink.read(a, d))
    assert changes[2].action == "conflict" and "not ecsched's" in changes[2].message
    with pytest.raises(sink.Conflict):
        sink.apply(a, d, changes)
    assert client("logs").describe_log_groups(logGroupNamePrefix=d.log_group)["logGroups"] == []


def test_log_group_not_ours_is_a_conflict(aws: str) -> None:
    a, d = setup()
    client("logs").create_log_group(logGroupName=d.log_group)
    assert sink.plan(d, sink.read(a, d))[0].action == "conflict"


def test_prune_removes_our_history_rule_and_policy_but_keeps_the_data(aws: str) -> None:
    a, d = setup()
    sink.apply(a, d, sink.plan(d, sink.read(a, d)))
    client("events").put_rule(Name="ecsched-history-someone-else", EventPattern=json.dumps({"source": ["x"]}))
    assert sink.stale(a, REGION, "api", keep={d.rule_name}) == []
    names = sink.stale(a, REGION, "api", keep=set())
    assert names == [d.rule_name]
    changes = sink.plan_prune(REGION, names)
    assert actions(changes) == [("rule", "delete"), ("policy", "delete")]
    sink.apply_prune(a, changes)
    rules = [r["Name"] for r in client("events").list_rules()["Rules"]]
    assert rules == ["ecsched-history-someone-else"]
    assert client("logs").describe_resource_policies()["resourcePolicies"] == []
    assert len(client("logs").describe_log_groups(logGroupNamePrefix=d.log_group)["logGroups"]) == 1
    sink.apply_prune(a, sink.plan_prune(REGION, [], log_group=d.log_group))
    assert client("logs").describe_log_groups(logGroupNamePrefix=d.log_group)["logGroups"] == []


def test_history_settings_are_checked(tmp_path: Any) -> None:
    from ecsched.config import Config
    from ecsched.config.loader import ConfigFile
    from ecsched.errors import EcschedError
    from ecsched.insight import settings

    def cfg(block: Any) -> Config:
        return Config(files=[ConfigFile(path="f.yaml", data={"history": block})])

    assert settings.history(cfg({})) == History("/ecsched/history", 30, "f.yaml")
    assert settings.history(cfg({"logGroup": "/x", "retentionDays": None})) == History("/x", None, "f.yaml")
    with pytest.raises(EcschedError, match="retentionDays 31"):
        settings.history(cfg({"retentionDays": 31}))
    with pytest.raises(EcschedError, match="logGroup"):
        settings.history(cfg({"logGroup": "bad name!"}))


def test_plan_history_for_the_engine_and_prune_when_the_block_goes(aws: str) -> None:
    a, _ = setup()
    hist = History("/ecsched/history", 30, "ecsched.yaml")
    schedules = [schedule("job-api")]
    hp = sink.plan_history(a, hist, schedules, Account(ACCOUNT))
    assert hp.has_changes and [ln[:22] for ln in hp.lines()] == ["+ history log-group /e", "+ history policy ecsch",
                                                                  "+ history rule ecsched"]
    sink.apply_history(a, hp)
    again = sink.plan_history(a, hist, schedules, Account(ACCOUNT), prune=True)
    assert not again.has_changes and again.lines() == [] and len(again.lines(verbose=True)) == 3
    gone = sink.plan_history(a, None, schedules, Account(ACCOUNT), prune=True)
    assert [(c.resource, c.action) for _, c in gone.changes] == [("rule", "delete"), ("policy", "delete")]
    sink.apply_history(a, gone)
    assert client("events").list_rules(NamePrefix="ecsched-history-")["Rules"] == []
    assert not sink.plan_history(a, None, schedules, Account(ACCOUNT), prune=True).has_changes
