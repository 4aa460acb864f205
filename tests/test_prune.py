"""Prune converges: it finds owned rules by tag (also those an interrupted delete left without a target),
disables before it removes targets, names what it finishes, says why each rule goes, and reports (never
deletes) owned rules of shapes ecsched does not manage unless they are named."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ecsched.arns import Account
from ecsched.aws import Aws
from ecsched.backends.rules import RulesBackend
from ecsched.config import load
from ecsched.plan import make_plan
from tests import write_order
from tests.conftest import ACCOUNT, REGION, Result, client
from tests.fault_server import FaultServer
from tests.test_backend_rules import rule, write_config

RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/"

@pytest.fixture
def order(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
    yield from write_order.record(monkeypatch)



def changes(cli: Callable[..., Result], path: str) -> dict[str, dict[str, Any]]:
    res = cli("-c", path, "diff", "--prune", "--format", "json")
    assert res.code in (0, 2), res.err
    return {c["rule"]: c for c in json.loads(res.out)["changes"]}


def names() -> set[str]:
    return {r["Name"] for r in client("events").list_rules()["Rules"]}


def test_a_rule_left_without_a_target_is_found_by_its_tag_and_its_delete_finished(
        aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    assert cli("-c", write_config(tmp_path, [rule("keep"), rule("gone")]), "apply").code == 0
    client("events").remove_targets(Rule="gone", Ids=["gone"])  # a delete killed after RemoveTargets
    path = write_config(tmp_path, [rule("keep")])
    ch = changes(cli, path)["gone"]
    assert ch["action"] == "delete" and "without a target" in ch["reason"] and "finished" in ch["reason"]
    assert cli("-c", path, "diff", "--prune", "--exit-code").code == 2  # no longer "no changes"
    assert cli("-c", path, "apply", "--prune").code == 0
    assert names() == {"keep"}
    assert cli("-c", path, "diff", "--prune", "--exit-code").code == 0


def test_prune_disables_before_it_removes_targets(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                                  order: list[tuple[str, Any]]) -> None:
    assert cli("-c", write_config(tmp_path, [rule("keep"), rule("gone")]), "apply").code == 0
    order.clear()
    assert cli("-c", write_config(tmp_path, [rule("keep")]), "apply", "--prune").code == 0
    assert [op for op, _ in order] == ["DisableRule", "RemoveTargets", "DeleteRule"]


def test_the_reason_says_which_rules_go_and_why(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    assert cli("-c", write_config(tmp_path, [rule("a"), rule("b")]), "apply").code == 0
    empty = changes(cli, write_config(tmp_path, []))
    assert {n: c["action"] for n, c in empty.items()} == {"a": "delete", "b": "delete"}
    assert "`rules:` is empty" in empty["a"]["reason"] and "every rule of `api`" in empty["a"]["reason"]
    one = changes(cli, write_config(tmp_path, [rule("a")]))["b"]
    assert "no file given declares it" in one["reason"] and "pass that file too" in one["reason"]


@pytest.mark.parametrize("shape", ["two targets", "event pattern"])
def test_an_owned_rule_of_another_shape_is_reported_and_left(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                                             shape: str) -> None:
    ev = client("events")
    assert cli("-c", write_config(tmp_path, [rule("keep"), rule("odd")]), "apply").code == 0
    if shape == "two targets":
        ev.put_targets(Rule="odd", Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"}])
    else:
        ev.remove_targets(Rule="odd", Ids=["odd"])
        ev.delete_rule(Name="odd")
        ev.put_rule(Name="odd", EventPattern=json.dumps({"source": ["aws.ecs"]}))
        ev.put_targets(Rule="odd", Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"}])
        ev.tag_resource(ResourceARN=RULE_ARN + "odd", Tags=[{"Key": "ecschedule:tracking-id", "Value": "api"}])
    path = write_config(tmp_path, [rule("keep")])
    ch = changes(cli, path)["odd"]
    assert ch["action"] == "conflict" and "--prune leaves it" in ch["reason"] and "--rule odd" in ch["reason"]
    assert cli("-c", path, "apply", "--prune").code == 1
    assert names() == {"keep", "odd"}
    # Named, it goes (the plan's part of `apply --prune --rule odd`): targets out, then the rule.
    [keep] = load([path], environ={}).schedules(Account(ACCOUNT), REGION)
    backend = RulesBackend(Aws(region=REGION), REGION)
    live = backend.read({"keep"}, {keep.target.cluster_arn}, prune=True)
    plan = make_plan([keep], live, prune=True, prune_named=["odd"])
    (delete,) = plan.actionable
    assert delete.action == "delete" and delete.name == "odd"
    assert backend.apply(delete)[-1] == "DeleteRule"
    assert names() == {"keep"}


def test_prune_reads_owned_rules_by_tag_within_a_known_budget(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                                              calls: Counter[str]) -> None:
    n, foreign = 12, 5
    ev = client("events")
    for i in range(foreign):  # other people's rules in the same region
        ev.put_rule(Name=f"foreign-{i}", ScheduleExpression="rate(1 day)")
    path = write_config(tmp_path, [rule(f"job-{i:02d}") for i in range(n)])
    assert cli("-c", path, "apply").code == 0
    calls.clear()
    assert cli("-c", path, "diff", "--prune", "--exit-code").code == 0
    # One page of each list, the declared rules' targets and tags, and one tag read per other rule.
    assert calls["ListRules"] == calls["ListRuleNamesByTarget"] == 1
    assert calls["ListTargetsByRule"] == n
    assert calls["ListTagsForResource"] == n + foreign
    assert sum(calls.values()) == 1 + 2 + 2 * n + foreign  # + GetCallerIdentity


def test_prune_converges_when_deletes_fail(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    n = 20
    assert cli("-c", write_config(tmp_path, [rule("keep")] + [rule(f"old-{i:02d}") for i in range(n)]),
               "apply", "--parallel", "8").code == 0
    path = write_config(tmp_path, [rule("keep")])
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # one attempt: every fault sticks
    with FaultServer(aws, seed=7) as fs:
        monkeypatch.setenv("AWS_ENDPOINT_URL", fs.url)
        fs.add("DeleteRule", "500", rate=0.5)
        fs.add("RemoveTargets", "500-after-commit", rate=0.2)
        assert cli("-c", path, "apply", "--prune").code == 1
        assert fs.faults["DeleteRule"] > 0
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    left = names() - {"keep"}
    assert left, "some deletes failed"
    assert set(changes(cli, path)) >= left  # every one is seen again, with or without its target
    assert cli("-c", path, "apply", "--prune").code == 0
    assert names() == {"keep"}
    assert cli("-c", path, "diff", "--prune", "--exit-code").code == 0


def test_owners_spare_the_target_reads_of_other_owners_rules(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                                             calls: Counter[str]) -> None:
    assert cli("-c", write_config(tmp_path, [rule("mine")]), "apply").code == 0
    assert cli("-c", write_config(tmp_path, [rule("theirs")], trackingId="billing"), "apply").code == 0
    backend = RulesBackend(Aws(region=REGION), REGION)
    calls.clear()
    assert set(backend.read(set(), set(), prune=True)) == {"mine", "theirs"}  # the plan decides
    assert calls["ListTargetsByRule"] == 2
    calls.clear()
    by_arn = {f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api"}  # the other spelling of the owner `api`
    assert set(backend.read(set(), set(), prune=True, owners=by_arn)) == {"mine"}
    assert calls["ListTargetsByRule"] == 1 and calls["ListTagsForResource"] == 2
