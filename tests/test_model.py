"""The canonical model: equal schedules compare equal however they were written; every AWS default is
explicit; every name is an ARN in the right partition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ecsched import arns
from ecsched.arns import Account
from ecsched.config import load
from ecsched.model import Network, Schedule, input_json, overrides, parse_overrides, to_plain

ACCOUNT = "123456789012"
BASE = {"name": "job", "scheduleExpression": "cron(0 0 * * ? *)", "taskDefinition": "task1"}


def build(tmp_path: Path, rule: dict[str, Any], account: Account | None = None, region: str = "us-east-1",
          **top: Any) -> Schedule:
    p = tmp_path / f"f{len(list(tmp_path.iterdir()))}.yaml"
    p.write_text(yaml.safe_dump({"region": region, "cluster": "api", **top, "rules": [{**BASE, **rule}]}))
    [s] = load([str(p)], environ={}).schedules(account or Account(ACCOUNT))
    return s


def test_order_that_aws_ignores_does_not_matter(tmp_path: Path) -> None:
    a = build(tmp_path, {
        "launch_type": "FARGATE",
        "network_configuration": {"aws_vpc_configuration": {"subnets": ["subnet-b", "subnet-a"],
                                                            "security_groups": ["sg-2", "sg-1"]}},
        "containerOverrides": [{"name": "app", "environment": {"B": "2", "A": "1"}}],
        "tags": {"team": "x", "env": "prod"},
    })
    b = build(tmp_path, {
        "tags": {"env": "prod", "team": "x"},
        "containerOverrides": [{"environment": {"A": "1", "B": "2"}, "name": "app"}],
        "network_configuration": {"aws_vpc_configuration": {"security_groups": ["sg-1", "sg-2"],
                                                            "subnets": ["subnet-a", "subnet-b"]}},
        "launch_type": "FARGATE",
    })
    assert a == b
    assert a.fingerprint() == b.fingerprint()
    assert a.target.container_overrides[0].environment == (("A", "1"), ("B", "2"))


def test_order_that_matters_is_kept(tmp_path: Path) -> None:
    """The command's arguments and the placement strategy are ordered: a different order is a change."""
    a = build(tmp_path, {"containerOverrides": [{"name": "app", "command": ["a", "b"]}]})
    b = build(tmp_path, {"containerOverrides": [{"name": "app", "command": ["b", "a"]}]})
    assert a != b
    s1 = build(tmp_path, {"placementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"},
                                                {"type": "binpack", "field": "memory"}]})
    s2 = build(tmp_path, {"placementStrategy": [{"type": "binpack", "field": "memory"},
                                                {"type": "spread", "field": "attribute:ecs.availability-zone"}]})
    assert s1 != s2


def test_aws_defaults_are_explicit(tmp_path: Path) -> None:
    bare = build(tmp_path, {"network_configuration": {"aws_vpc_configuration": {"subnets": ["subnet-a"]}}})
    spelled = build(tmp_path, {"taskCount": 1, "disabled": False, "enableExecuteCommand": False,
                               "enableECSManagedTags": False, "role": "ecsEventsRole",
                               "network_configuration": {"aws_vpc_configuration": {
                                   "subnets": ["subnet-a"], "assign_public_ip": "DISABLED"}}})
    assert bare == spelled
    t = bare.target
    assert t.task_count == 1
    assert t.network == Network(("subnet-a",), (), "DISABLED")
    assert (t.enable_execute_command, t.enable_ecs_managed_tags, t.dedupe) == (False, False, False)
    assert bare.enabled is True
    assert t.target_id == "job"
    assert t.role_arn == f"arn:aws:iam::{ACCOUNT}:role/ecsEventsRole"


def test_null_and_empty_mean_absent(tmp_path: Path) -> None:
    assert build(tmp_path, {"containerOverrides": None, "disabled": None}) == build(tmp_path, {})
    a = build(tmp_path, {"containerOverrides": [{"name": "app", "environment": None, "command": None}]})
    b = build(tmp_path, {"containerOverrides": [{"name": "app"}]})
    assert a == b


def test_no_launch_type_with_a_capacity_provider_strategy(tmp_path: Path) -> None:
    net = {"aws_vpc_configuration": {"subnets": ["subnet-a"]}}
    cps = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    with_both = build(tmp_path, {"launch_type": "FARGATE", "capacityProviderStrategy": cps,
                                 "network_configuration": net})
    strategy_only = build(tmp_path, {"capacityProviderStrategy": cps, "network_configuration": net})
    assert with_both == strategy_only
    assert with_both.target.launch_type is None
    assert with_both.target.capacity_provider_strategy[0].base == 0


def test_environment_values_are_text_as_ecschedule_sends_them(tmp_path: Path) -> None:
    p = tmp_path / "f.yaml"
    p.write_text("region: us-east-1\ncluster: api\nrules:\n- name: job\n  scheduleExpression: rate(1 day)\n"
                 "  taskDefinition: t\n  containerOverrides:\n  - name: app\n    environment:\n"
                 "      ON: on\n      YES: yes\n      TRUE: true\n      N: 3\n      T: 12:30\n      Q: '007'\n")
    [s] = load([str(p)], environ={}).schedules(Account(ACCOUNT))
    assert dict(s.target.container_overrides[0].environment) == {
        "ON": "on", "YES": "yes", "TRUE": "true", "N": "3", "T": "12:30", "Q": "007"}


@pytest.mark.parametrize(("region", "partition"), [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
                                                   ("eu-west-1", "aws")])
def test_arns_in_every_partition(tmp_path: Path, region: str, partition: str) -> None:
    s = build(tmp_path, {"dead_letter_config": {"sqs": "dlq"}, "taskDefinition": "task1:7"},
              account=Account(ACCOUNT, partition), region=region)
    t = s.target
    assert t.cluster_arn == f"arn:{partition}:ecs:{region}:{ACCOUNT}:cluster/api"
    assert t.task_definition_arn == f"arn:{partition}:ecs:{region}:{ACCOUNT}:task-definition/task1:7"
    assert t.role_arn == f"arn:{partition}:iam::{ACCOUNT}:role/ecsEventsRole"
    assert t.dead_letter_arn == f"arn:{partition}:sqs:{region}:{ACCOUNT}:dlq"
    rule_arn = arns.rule_arn("job", Account(ACCOUNT, partition), region)
    assert rule_arn == f"arn:{partition}:events:{region}:{ACCOUNT}:rule/job"


def test_role_with_a_path(tmp_path: Path) -> None:
    s = build(tmp_path, {}, role="service-role/ecsEventsRole")
    assert s.target.role_arn == f"arn:aws:iam::{ACCOUNT}:role/service-role/ecsEventsRole"
    assert build(tmp_path, {"role": "/a/b/"}).target.role_arn == f"arn:aws:iam::{ACCOUNT}:role/a/b"
    arn = "arn:aws:iam::999999999999:role/other"
    assert build(tmp_path, {"role": arn}).target.role_arn == arn


def test_cluster_given_as_an_arn(tmp_path: Path) -> None:
    """ecschedule breaks on this; the model keeps the ARN as it is (another account or region included)."""
    arn = "arn:aws:ecs:us-east-1:999999999999:cluster/shared"
    by_arn = build(tmp_path, {"cluster": arn})
    assert by_arn.target.cluster_arn == arn
    by_name = build(tmp_path, {}, cluster="shared", account=Account("999999999999"))
    assert by_name.target.cluster_arn == arn


def test_arns_are_passed_through_untouched(tmp_path: Path) -> None:
    td = "arn:aws:ecs:eu-west-1:999999999999:task-definition/other:3"
    q = "arn:aws:sqs:eu-west-1:999999999999:dlq"
    t = build(tmp_path, {"taskDefinition": td, "dead_letter_config": {"sqs": q}}).target
    assert (t.task_definition_arn, t.dead_letter_arn) == (td, q)


def test_rule_settings_override_the_top_level(tmp_path: Path) -> None:
    s = build(tmp_path, {"region": "eu-west-1", "cluster": "batch", "role": "r2", "trackingId": "t2"}, role="r1",
              trackingId="t1")
    assert s.region == "eu-west-1"
    assert s.target.cluster_arn == f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/batch"
    assert s.target.role_arn.endswith(":role/r2")
    assert s.tracking_id == "t2"


def test_provenance_is_not_part_of_equality(tmp_path: Path) -> None:
    a = build(tmp_path, {})
    b = build(tmp_path, {}, trackingId="other")
    assert a.source != b.source and a.tracking_id != b.tracking_id
    assert a == b
    assert "source" not in to_plain(a) and "tracking_id" not in to_plain(a)


def test_overrides_round_trip_through_the_input_json(tmp_path: Path) -> None:
    s = build(tmp_path, {"containerOverrides": [{"name": "app", "command": ["a"], "environment": {"B": "2", "A": "1"},
                                                 "cpu": 256, "memoryReservation": 128}],
                         "taskOverride": {"cpu": 512, "memory": "1024"}})
    assert parse_overrides(overrides(s.target)) == (s.target.container_overrides, "512", "1024")
    assert input_json(s.target) == (
        '{"containerOverrides":[{"name":"app","command":["a"],"environment":[{"name":"A","value":"1"},'
        '{"name":"B","value":"2"}],"cpu":256,"memoryReservation":128}],"cpu":"512","memory":"1024"}')
    # ecschedule writes {"containerOverrides":null} for a rule without overrides: the same as none.
    assert parse_overrides({"containerOverrides": None}) == ((), None, None) == parse_overrides(overrides(
        build(tmp_path, {}).target))
