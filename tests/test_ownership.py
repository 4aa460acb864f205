"""Ownership exactly as ecschedule computes it: rules written by ecschedule's own call sequence are owned
with no change, an untagged rule of the file's shape is adopted, anything else is a conflict that says
what it found."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ecsched import ownership
from tests import ecschedule_writer
from tests.conftest import ACCOUNT, REGION, Result, client
from tests.test_backend_rules import WRITES, rule, tags, writes

CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/batch"


def write(tmp_path: Path, top: dict[str, Any]) -> str:
    path = tmp_path / "ecschedule.yaml"
    path.write_text(json.dumps(top))
    return str(path)


def rich_rule(name: str, **extra: Any) -> dict[str, Any]:
    """A rule using most of what ecschedule writes."""
    return rule(name, description=f"{name} job", taskCount=2, group="g", launch_type="FARGATE",
                platform_version="1.4.0", propagateTags="TASK_DEFINITION",
                taskOverride={"cpu": "512", "memory": "1024"},
                network_configuration={"aws_vpc_configuration": {"subnets": ["subnet-1"],
                                                                 "security_groups": ["sg-1"],
                                                                 "assign_public_ip": "ENABLED"}},
                containerOverrides=[{"name": "app", "command": ["php", "artisan", "x"],
                                     "environment": {"B": "2", "A": "<&>"}, "memory": 256},
                                    {"name": "sidecar"}],
                dead_letter_config={"sqs": "dlq"}, **extra)


CASES = {
    "name cluster": {"region": REGION, "cluster": "batch", "rules": [rich_rule("a"), rule("b", disabled=True)]},
    "ARN cluster": {"region": REGION, "cluster": CLUSTER_ARN, "rules": [rich_rule("a"), rule("b")]},
    "rule-level cluster": {"region": REGION, "cluster": "web",
                           "rules": [rich_rule("a", cluster="batch"), rule("b")]},
    "trackingId": {"region": REGION, "cluster": "batch", "trackingId": "nightly-jobs", "rules": [rule("a")]},
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_rule_ecschedule_wrote_from_the_same_file_is_owned_with_no_change(
        aws: str, cli: Callable[..., Result], tmp_path: Path, calls: Counter[str], case: str) -> None:
    top = CASES[case]
    ecschedule_writer.apply(client("events"), top, ACCOUNT)
    assert tags("a")["ecschedule:tracking-id"] == ecschedule_writer.tracking_id(top, top["rules"][0])
    path = write(tmp_path, top)
    diff = cli("-c", path, "diff", "--exit-code", "--prune")
    assert diff.code == 0, diff.out + diff.err
    assert "! conflict" not in diff.out
    calls.clear()
    res = cli("-c", path, "apply", "--prune")
    assert res.code == 0, res.err
    assert writes(calls) == 0, calls


def test_the_tag_is_the_top_level_cluster_as_written() -> None:
    top = CASES["rule-level cluster"]
    assert ecschedule_writer.tracking_id(top, top["rules"][0]) == "web"
    assert ownership.tracking_id_of(top, top["rules"][0]) == "web"
    assert ownership.tracking_id_of(CASES["ARN cluster"]) == CLUSTER_ARN
    assert ownership.tracking_id_of({"cluster": "x", "trackingId": "t"}, {"trackingId": "r"}) == "r"
    assert ownership.tracking_id_of({"rules": []}) == ""


@pytest.mark.parametrize(("tag", "tracking_id", "owned"), [
    ("batch", "batch", True),
    (CLUSTER_ARN, "batch", True),  # one cluster, two spellings
    ("batch", CLUSTER_ARN, True),
    (CLUSTER_ARN.replace(REGION, "eu-west-1"), "batch", False),  # another region's cluster
    (CLUSTER_ARN, CLUSTER_ARN.replace("batch", "web"), False),
    ("web", "batch", False),
    (None, "batch", False),
    ("", "", True),
])
def test_same_owner(tag: str | None, tracking_id: str, owned: bool) -> None:
    assert ownership.same_owner(tag, tracking_id, REGION) is owned


def test_a_file_naming_the_cluster_owns_rules_ecschedule_tagged_with_its_arn(
        aws: str, cli: Callable[..., Result], tmp_path: Path, calls: Counter[str]) -> None:
    ecschedule_writer.apply(client("events"), CASES["ARN cluster"], ACCOUNT)
    path = write(tmp_path, {**CASES["ARN cluster"], "cluster": "batch"})
    assert cli("-c", path, "diff", "--exit-code").code == 0
    # ...and prunes them: both spellings are one owner.
    path = write(tmp_path, {**CASES["ARN cluster"], "cluster": "batch", "rules": [rich_rule("a")]})
    diff = cli("-c", path, "diff", "--prune", "--format", "json")
    assert [(c["rule"], c["action"]) for c in json.loads(diff.out)["changes"]] == [("a", "noop"), ("b", "delete")]


def test_an_untagged_rule_ecschedule_wrote_is_adopted_with_one_tag_resource(
        aws: str, cli: Callable[..., Result], tmp_path: Path, calls: Counter[str]) -> None:
    top = CASES["ARN cluster"]
    ecschedule_writer.apply(client("events"), top, ACCOUNT, tagged=False)  # ecschedule before v0.10
    path = write(tmp_path, top)
    diff = cli("-c", path, "diff", "--format", "json")
    changes = json.loads(diff.out)["changes"]
    assert [(c["rule"], c["action"], c["fields"]) for c in changes] == [("a", "update", []), ("b", "update", [])]
    assert all("adopted" in c["reason"] for c in changes)
    calls.clear()
    res = cli("-c", path, "apply")
    assert res.code == 0, res.err
    assert {op: n for op, n in calls.items() if op in WRITES} == {"TagResource": 2}
    assert tags("a")["ecschedule:tracking-id"] == CLUSTER_ARN
    assert cli("-c", path, "diff", "--exit-code").code == 0


@pytest.mark.parametrize(("shape", "found"), [
    ("other cluster", "its ECS target runs on arn:aws:ecs:us-east-1:123456789012:cluster/other"),
    ("two targets", "it has 2 targets"),
    ("sqs target", "its target is not an ECS task (arn:aws:sqs:us-east-1:123456789012:q)"),
])
def test_an_untagged_rule_of_another_shape_is_a_conflict_that_says_what_it_found(
        aws: str, cli: Callable[..., Result], tmp_path: Path, shape: str, found: str) -> None:
    top = {"region": REGION, "cluster": "batch", "rules": [rule("a")]}
    events = client("events")
    written = {**top, "cluster": "other"} if shape == "other cluster" else top
    ecschedule_writer.apply(events, written, ACCOUNT, tagged=False)
    if shape == "two targets":
        events.put_targets(Rule="a", Targets=[{"Id": "extra", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"}])
    if shape == "sqs target":
        events.remove_targets(Rule="a", Ids=["a"])
        events.put_targets(Rule="a", Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"}])
    path = write(tmp_path, top)
    diff = cli("-c", path, "diff", "--format", "json")
    (ch,) = json.loads(diff.out)["changes"]
    assert ch["action"] == "conflict"
    assert found in ch["reason"] and "no ecschedule:tracking-id tag" in ch["reason"]
    assert "created" not in ch["reason"]  # says what it found, not who made it
    assert ("--adopt would tag it" in ch["reason"]) is (shape == "other cluster")
    assert cli("-c", path, "apply").code == 1
    assert "ecschedule:tracking-id" not in tags("a")
