"""`ecsched run` end to end against the moto server, in-process through `cli` (tests/test_run_child.py has
the ones that need a real child process: signals, a terminal, output while the task runs)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from run_helpers import (
    describe,
    hold,
    hold_tasks,
    put_logs,
    release,
    run_env,
    wait_for_task,
    write_config,
)

from tests.conftest import ACCOUNT, REGION, Result, client

CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api"
TD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/task1"
STARTED_BY = "ecsched/nightly-report"


@pytest.fixture
def env(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    yield from run_env(aws, tmp_path, monkeypatch)


def run(cli: Callable[..., Result], env: dict[str, Any], *args: str) -> Result:
    return cli("-c", env["config"], "run", *args)


def only_task() -> dict[str, Any]:
    ecs = client("ecs")
    arns = ecs.list_tasks(cluster="api")["taskArns"]
    assert len(arns) == 1, arns
    return describe("api", arns[0])


# --- what RunTask gets ---------------------------------------------------------------------------


def test_dry_run_prints_the_request_eventbridge_would_send_and_starts_nothing(cli, env):
    r = run(cli, env, "--rule", "nightly-report", "--dry-run")
    assert r.code == 0, r.err
    req = json.loads(r.out)
    assert req == {
        "cluster": CLUSTER_ARN,
        "taskDefinition": TD,
        "count": 1,
        "launchType": "FARGATE",
        "platformVersion": "1.4.0",
        "group": "reports",
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": [env["subnets"][0]], "securityGroups": [env["security_group"]],
            "assignPublicIp": "ENABLED"}},
        "overrides": {"containerOverrides": [{"name": "app", "command": ["php", "report.php"],
                                              "environment": [{"name": "MODE", "value": "nightly"}]}],
                      "cpu": "512", "memory": "1024"},
        "propagateTags": "TASK_DEFINITION",
        "tags": [{"key": "team", "value": "data"}],
        "enableECSManagedTags": False,
        "enableExecuteCommand": False,
        "startedBy": STARTED_BY,
    }
    assert client("ecs").list_tasks(cluster="api")["taskArns"] == []
    assert_valid_run_task_input(req)


def assert_valid_run_task_input(req: dict[str, Any]) -> None:
    """The request is valid RunTask input as botocore's service model defines it (so AWS, and
    `aws ecs run-task --cli-input-json`, take it as it is)."""
    from botocore.validate import ParamValidator

    shape = client("ecs").meta.service_model.operation_model("RunTask").input_shape
    report = ParamValidator().validate(req, shape)
    assert not report.has_errors(), report.generate_report()


def test_dry_run_keeps_capacity_providers_and_every_ecs_parameter(cli, env, tmp_path):
    # moto's RunTask cannot place a capacity-provider task (it wants EC2 instances), so the dry run is
    # where the strategy is checked.
    path = tmp_path / "cp.yaml"
    path.write_text(f"""\
region: us-east-1
cluster: api
rules:
- name: spot-batch
  scheduleExpression: rate(1 hour)
  taskDefinition: task1:1
  taskCount: 3
  platform_version: LATEST
  group: batch
  capacityProviderStrategy:
  - capacityProvider: FARGATE_SPOT
    weight: 3
  - capacityProvider: FARGATE
    base: 1
    weight: 1
  network_configuration:
    aws_vpc_configuration:
      subnets: [{env["subnets"][1]}, {env["subnets"][0]}]
      security_groups: [{env["security_group"]}]
  enableExecuteCommand: true
  enableECSManagedTags: true
  placementConstraints:
  - type: memberOf
    expression: attribute:ecs.os-type == linux
  placementStrategy:
  - type: spread
    field: attribute:ecs.availability-zone
""")
    r = cli("-c", str(path), "run", "-rule", "spot-batch", "-dry-run")
    assert r.code == 0, r.err
    req = json.loads(r.out)
    assert "launchType" not in req
    assert req["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": 3},
        {"capacityProvider": "FARGATE", "base": 1, "weight": 1},
    ]
    assert req["taskDefinition"] == TD + ":1"
    assert req["count"] == 3
    assert req["platformVersion"] == "LATEST"
    assert req["group"] == "batch"
    assert req["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == sorted(env["subnets"][:2])
    assert req["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    assert req["enableExecuteCommand"] is True
    assert req["enableECSManagedTags"] is True
    assert req["placementConstraints"] == [{"type": "memberOf", "expression": "attribute:ecs.os-type == linux"}]
    assert req["placementStrategy"] == [{"type": "spread", "field": "attribute:ecs.availability-zone"}]
    assert req["startedBy"] == "ecsched/spot-batch"
    assert "overrides" not in req
    assert_valid_run_task_input(req)


def test_runs_a_disabled_rule_never_applied_with_the_scheduled_parameters(cli, env):
    assert client("events").list_rules()["Rules"] == []  # never applied; and disabled in the file
    r = run(cli, env, "--rule", "nightly-report", "--no-logs")
    assert r.code == 0, r.err
    task = only_task()
    assert task["lastStatus"] == "STOPPED"
    assert task["clusterArn"] == CLUSTER_ARN
    assert task["taskDefinitionArn"] == TD + ":1"
    assert task["launchType"] == "FARGATE"
    assert task["platformVersion"] == "1.4.0"
    assert task["group"] == "reports"
    assert task["startedBy"] == STARTED_BY
    assert task["tags"] == [{"key": "team", "value": "data"}]
    assert task["overrides"] == {
        "containerOverrides": [{"name": "app", "command": ["php", "report.php"],
                                "environment": [{"name": "MODE", "value": "nightly"}]}],
        "cpu": "512", "memory": "1024"}
    subnet = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}["subnetId"]
    assert subnet == env["subnets"][0]
    assert "STOPPED" in r.err


def test_command_env_count_and_task_definition_options(cli, env):
    ecs = client("ecs")
    ecs.register_task_definition(  # revision 2, which the rule does not name
        family="task1", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "php:8.4-cli", "memory": 512, "essential": True}])
    r = run(cli, env, "--rule", "nightly-report", "--task-definition", "task1:1", "--count", "2",
            "--env", "MODE=manual", "--env", "EXTRA=x=y", "--no-logs", "--", "php", "report.php", "--since", "a b")
    assert r.code == 0, r.err
    arns = ecs.list_tasks(cluster="api")["taskArns"]
    assert len(arns) == 2
    for arn in arns:
        t = describe("api", arn)
        assert t["taskDefinitionArn"] == TD + ":1"
        assert t["overrides"]["containerOverrides"] == [{
            "name": "app", "command": ["php", "report.php", "--since", "a b"],
            "environment": [{"name": "MODE", "value": "manual"}, {"name": "EXTRA", "value": "x=y"}]}]


def test_command_option_is_split_like_a_shell(cli, env):
    r = run(cli, env, "--rule", "nightly-report", "--command", "sh -c 'echo \"a b\"'", "--dry-run")
    assert r.code == 0, r.err
    assert json.loads(r.out)["overrides"]["containerOverrides"][0]["command"] == ["sh", "-c", 'echo "a b"']


def test_command_without_override_goes_to_the_first_essential_container(cli, env, tmp_path):
    client("ecs").register_task_definition(
        family="multi", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="1024",
        containerDefinitions=[
            {"name": "sidecar", "image": "envoy", "memory": 256, "essential": False},
            {"name": "worker", "image": "php", "memory": 512},  # essential by default
        ])
    path = tmp_path / "m.yaml"
    path.write_text("region: us-east-1\ncluster: api\nrules:\n- name: m\n  scheduleExpression: rate(1 day)\n"
                    "  taskDefinition: multi\n  launch_type: EC2\n")
    r = cli("-c", str(path), "run", "--rule", "m", "--dry-run", "--env", "A=1", "--", "work")
    assert r.code == 0, r.err
    assert json.loads(r.out)["overrides"] == {"containerOverrides": [
        {"name": "worker", "command": ["work"], "environment": [{"name": "A", "value": "1"}]}]}


def test_unknown_container_is_refused_before_anything_runs(cli, env):
    r = run(cli, env, "--rule", "nightly-report", "--container", "nope", "--", "x")
    assert r.code == 125
    assert "nope" in r.err and "app" in r.err
    assert client("ecs").list_tasks(cluster="api")["taskArns"] == []


# --- exit codes --------------------------------------------------------------------------------------


def test_unknown_rule_exits_125_and_suggests_the_nearest_names(cli, env):
    r = run(cli, env, "--rule", "nightly-reprot")
    assert r.code == 125
    assert "`nightly-report`" in r.err
    r = run(cli, env, "--rule", "zzz", "--format", "json")
    assert r.code == 125
    out = json.loads(r.out)
    assert out["exitCode"] == 125 and "zzz" in out["error"]
    assert "nightly-report" in r.err  # no close match: the rules are listed


def test_runtask_error_exits_125(cli, env, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(Path(env["config"]).read_text().replace("cluster: api", "cluster: no-such-cluster"))
    r = cli("-c", str(path), "run", "--rule", "nightly-report")
    assert r.code == 125
    assert "RunTask" in r.err


def test_ecsched_error_before_start_is_125_not_1(cli, env):
    r = run(cli, env, "--rule", "nightly-report", "--timeout", "soon")
    assert r.code == 125
    assert "duration" in r.err
    r = run(cli, env, "--rule", "nightly-report", "--lost-timeout", "0")
    assert r.code == 125
    assert "--lost-timeout: '0' must be a positive duration" in r.err
    assert client("ecs").list_tasks(cluster="api")["taskArns"] == []


# --- waiting, logs, output -----------------------------------------------------------------------------


def test_no_wait_prints_the_task_arn_and_leaves_it_running(cli, env):
    with hold_tasks(env["url"]):
        r = run(cli, env, "--rule", "nightly-report", "--no-wait")
        assert r.code == 0, r.err
        arn = r.out.strip()
        assert arn.startswith(f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/")
        assert describe("api", arn)["lastStatus"] == "RUNNING"


def _release_after_logs(url: str, messages: dict[str, list[str]], group: str = "/ecs/task1") -> threading.Thread:
    """In the background: wait for ecsched's task, write its logs, then let it stop."""

    def work() -> None:
        try:
            tid = wait_for_task("api", STARTED_BY).rsplit("/", 1)[1]
            for container, lines in messages.items():
                put_logs(group, f"ecs/{container}/{tid}", lines)
        finally:
            release(url)

    t = threading.Thread(target=work, daemon=True)
    return t


def test_waits_for_stopped_and_prints_logs_json(cli, env):
    hold(env["url"])
    t = _release_after_logs(env["url"], {"app": ["report: 42 rows", "done"]})
    t.start()
    r = run(cli, env, "--rule", "nightly-report", "--format", "json")
    t.join()
    assert r.code == 0, r.err
    out = json.loads(r.out)  # stdout is exactly one JSON object: the logs went to stderr
    tid = out["taskArn"].rsplit("/", 1)[1]
    assert out["taskArns"] == [out["taskArn"]]
    assert out["lastStatus"] == "STOPPED"
    assert out["exitCode"] == 0
    assert out["startedBy"] == STARTED_BY
    assert out["containers"] == [{"name": "app", "essential": True, "lastStatus": "PENDING", "exitCode": 0,
                                  "reason": None, "logGroup": "/ecs/task1", "logStream": f"ecs/app/{tid}"}]
    assert out["logStreams"] == [f"/ecs/task1:ecs/app/{tid}"]
    assert out["tasks"][0]["taskArn"] == out["taskArn"]
    assert "report: 42 rows\ndone\n" in r.err


def test_logs_of_several_containers_are_prefixed_with_their_names(cli, env, tmp_path):
    logcfg = {"logDriver": "awslogs", "options": {
        "awslogs-group": "/ecs/task1", "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"}}
    client("ecs").register_task_definition(
        family="duo", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="1024",
        containerDefinitions=[
            {"name": "app", "image": "php", "memory": 512, "essential": True, "logConfiguration": logcfg},
            {"name": "web", "image": "nginx", "memory": 256, "essential": True, "logConfiguration": logcfg},
            {"name": "xray", "image": "xray", "memory": 256, "essential": False, "logConfiguration": logcfg},
        ])
    config = write_config(tmp_path, family="duo")
    hold(env["url"])
    t = _release_after_logs(env["url"], {"app": ["from app"], "web": ["from web"], "xray": ["not essential"]})
    t.start()
    r = cli("-c", str(config), "run", "--rule", "nightly-report")
    t.join()
    assert r.code == 0, r.err
    assert r.out.splitlines() == ["app | from app", "web | from web"]


def test_timeout_exits_124_and_leaves_the_task_running(cli, env):
    with hold_tasks(env["url"]):
        r = run(cli, env, "--rule", "nightly-report", "--timeout", "0.3s", "--format", "json")
        assert r.code == 124, r.err
        out = json.loads(r.out)
        assert out["timedOut"] is True and out["exitCode"] == 124
        assert describe("api", out["taskArn"])["lastStatus"] == "RUNNING"
        r = run(cli, env, "--rule", "nightly-report", "--timeout", "0.3s")
        assert r.code == 124
        assert "timed out after 300ms; the task keeps running" in r.err
        assert "exit code" not in r.err  # a running task has none to report


def test_timeout_with_stop_on_timeout_stops_the_task(cli, env):
    with hold_tasks(env["url"]):
        r = run(cli, env, "--rule", "nightly-report", "--timeout", "300ms", "--stop-on-timeout")
        assert r.code == 124, r.err
        task = only_task()
    assert task["lastStatus"] == "STOPPED"
    assert "ecsched" in task["stoppedReason"] and "--timeout" in task["stoppedReason"]
