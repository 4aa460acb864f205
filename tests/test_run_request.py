"""ecsched.run.request and .taskdef: the RunTask request EventBridge would send, the user's adjustments,
and what the task definition tells (essential containers, awslogs)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ecsched.model import CapacityProviderItem, ContainerOverride, EcsTarget, Network
from ecsched.run.codes import NotStarted
from ecsched.run.logs import log_streams
from ecsched.run.request import (
    Adjustments,
    apply_adjustments,
    build_request,
    manual_scheduled_time,
    started_by,
    target_container,
)
from ecsched.run.taskdef import TaskDefinitionInfo

CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/api"
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/task1:3"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/api/0123456789abcdef0123456789abcdef"


def target(**kw: Any) -> EcsTarget:
    base: dict[str, Any] = {"target_id": "t", "cluster_arn": CLUSTER, "role_arn": "arn:aws:iam::1:role/r",
                            "task_definition_arn": TD}
    base.update(kw)
    return EcsTarget(**base)


def test_started_by_is_sanitised_and_bounded():
    assert started_by("nightly-report") == "ecsched/nightly-report"
    assert started_by("a.b c") == "ecsched/a_b_c"
    long = started_by("x" * 200)
    assert len(long) == 128 and long.startswith("ecsched/xxx")


def test_request_with_capacity_providers_has_no_launch_type():
    t = target(launch_type=None, capacity_provider_strategy=(CapacityProviderItem("FARGATE_SPOT", 0, 4),
                                                             CapacityProviderItem("FARGATE", 1, 1)),
               platform_version="1.4.0", group="g", network=Network(("subnet-1",), ("sg-1",), "ENABLED"))
    req = build_request(t, rule="r")
    assert "launchType" not in req
    assert req["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": 4},
                                               {"capacityProvider": "FARGATE", "base": 1, "weight": 1}]
    assert req["platformVersion"] == "1.4.0"
    assert req["group"] == "g"
    assert req["networkConfiguration"] == {"awsvpcConfiguration": {
        "subnets": ["subnet-1"], "securityGroups": ["sg-1"], "assignPublicIp": "ENABLED"}}
    assert "clientToken" not in req


def test_request_minimal_target():
    assert build_request(target(launch_type="EC2"), rule="r") == {
        "cluster": CLUSTER, "taskDefinition": TD, "count": 1, "launchType": "EC2",
        "enableECSManagedTags": False, "enableExecuteCommand": False, "startedBy": "ecsched/r"}


def test_adjustments_replace_command_and_merge_environment():
    t = target(container_overrides=(
        ContainerOverride("app", command=("php", "a.php"), environment=(("A", "1"), ("B", "2")), cpu=128),
        ContainerOverride("side", environment=(("S", "x"),)),
    ), task_cpu="512")
    adj = Adjustments(command=["php", "b.php"], env={"B": "3", "C": "4"}, count=2,
                      task_definition_arn=TD.replace(":3", ":9"))
    req = build_request(t, rule="r", adj=adj, container=target_container(t, adj, None))
    assert req["count"] == 2
    assert req["taskDefinition"].endswith(":9")
    assert req["overrides"] == {"containerOverrides": [
        {"name": "app", "command": ["php", "b.php"], "cpu": 128,
         "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]},
        {"name": "side", "environment": [{"name": "S", "value": "x"}]},
    ], "cpu": "512"}
    # The schedule's own overrides are untouched.
    assert build_request(t, rule="r")["overrides"]["containerOverrides"][0]["command"] == ["php", "a.php"]


def test_adjustments_for_a_container_without_override_add_one():
    ov = apply_adjustments({"cpu": "256"}, Adjustments(command=["x"]), "worker")
    assert ov == {"cpu": "256", "containerOverrides": [{"name": "worker", "command": ["x"]}]}


def test_adjustments_need_a_container():
    with pytest.raises(NotStarted):
        apply_adjustments({}, Adjustments(env={"A": "1"}), None)


def test_target_container_order_of_preference():
    td = TaskDefinitionInfo.from_response({"taskDefinitionArn": TD, "containerDefinitions": [
        {"name": "init", "essential": False}, {"name": "main"}, {"name": "other", "essential": True}]})
    with_override = target(container_overrides=(ContainerOverride("other"),))
    assert target_container(with_override, Adjustments(container="init"), td) == "init"
    assert target_container(with_override, Adjustments(), td) == "other"
    assert target_container(target(), Adjustments(), td) == "main"
    assert target_container(target(), Adjustments(), None) is None


def test_task_definition_info_reads_awslogs():
    td = TaskDefinitionInfo.from_response({"taskDefinitionArn": TD, "containerDefinitions": [
        {"name": "app", "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/x", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "p"}}},
        {"name": "noprefix", "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/g"}}},
        {"name": "fluent", "logConfiguration": {"logDriver": "awsfirelens"}},
        {"name": "helper", "essential": False, "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/g", "awslogs-stream-prefix": "p"}}},
    ]})
    assert [c.name for c in td.essential] == ["app", "noprefix", "fluent"]
    streams = log_streams(TASK, td, "us-east-1")
    # Only essential containers with a predictable stream name: prefix/container/task-id.
    assert [(s.container, s.group, s.region, s.stream) for s in streams] == [
        ("app", "/ecs/x", "eu-west-1", "p/app/0123456789abcdef0123456789abcdef")]


def test_a_dedupe_rule_runs_with_the_variables_ecsched_lock_reads() -> None:
    t = EcsTarget(target_id="r", cluster_arn="arn:aws:ecs:us-east-1:1:cluster/c", role_arn="x",
                  task_definition_arn="arn:aws:ecs:us-east-1:1:task-definition/t",
                  container_overrides=(ContainerOverride("app", ("ecsched", "lock", "--", "true"),
                                                         (("APP_ENV", "prod"),)),), dedupe=True)
    env = {e["name"]: e["value"] for e in
           build_request(t, rule="nightly")["overrides"]["containerOverrides"][0]["environment"]}
    assert env["APP_ENV"] == "prod"
    assert env["ECSCHED_RULE"] == "nightly"
    assert env["ECSCHED_SCHEDULED_TIME"].startswith("manual-")
    assert manual_scheduled_time(datetime(2026, 11, 30, tzinfo=UTC)) == "manual-2026-11-30T00:00:00Z"
    # --env wins over the dedupe variables (a test of `lock` may want a fixed scheduled time).
    fixed = build_request(t, rule="nightly", adj=Adjustments(env={"ECSCHED_SCHEDULED_TIME": "x"}), container="app")
    env = {e["name"]: e["value"] for e in fixed["overrides"]["containerOverrides"][0]["environment"]}
    assert env["ECSCHED_SCHEDULED_TIME"] == "x"
    plain = build_request(EcsTarget(target_id="r", cluster_arn="c", role_arn="x", task_definition_arn="t",
                                    container_overrides=(ContainerOverride("app"),)), rule="nightly")
    assert "environment" not in plain["overrides"]["containerOverrides"][0]
