"""The order of apply's writes, proved by interrupting it at every write (faults through tests/fault_server)
and running it again: enable last, the fingerprint last, one whole version at every moment, and what an
interrupted apply leaves reads as "unfinished apply", never as drift."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ecsched.arns import Account
from ecsched.aws import Aws
from ecsched.backends.rules import RulesBackend
from ecsched.config import load
from ecsched.model import Schedule
from ecsched.plan import Plan, make_plan
from tests import write_order
from tests.conftest import ACCOUNT, REGION, Result, client, moto_reset
from tests.fault_server import FaultServer
from tests.test_backend_rules import rule, write_config

V1 = rule("job", containerOverrides=[{"name": "app", "command": ["run", "v1"]}])
V2 = rule("job", scheduleExpression="cron(30 4 * * ? *)",
          containerOverrides=[{"name": "app", "command": ["run", "v2"]}])
V2_TARGET_ID = {**V2, "targetId": "job-2"}

@pytest.fixture
def order(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
    yield from write_order.record(monkeypatch)



def live_job() -> Any:
    return RulesBackend(_aws(), REGION).read({"job"}, set(), prune=False).get("job")


def assert_one_whole_version(known: list[Schedule]) -> None:
    """What could fire now is one version entirely: never the new time with the old command."""
    lv = live_job()
    if lv is None or not lv.enabled or not lv.target_ids:
        return  # gone, paused or untargeted: nothing of either version runs
    assert lv.schedule is not None, lv.unmanaged
    assert any((lv.schedule.expression, lv.schedule.target) == (k.expression, k.target) for k in known), lv


def plan_json(cli: Callable[..., Result], path: str, *extra: str) -> list[dict[str, Any]]:
    res = cli("-c", path, "diff", "--format", "json", *extra)
    assert res.code in (0, 2), res.err
    return list(json.loads(res.out)["changes"])


SCENARIOS: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {
    "create": ([], [V1]),
    "update time and command": ([V1], [V2]),
    "update with a new target id": ([V1], [V2_TARGET_ID]),
    "pause and change": ([V1], [{**V2, "disabled": True}]),
    "resume and change": ([{**V1, "disabled": True}], [V2]),
    "prune": ([V1, rule("keep")], [rule("keep")]),
}


def desired_of(tmp_path: Path, rules: list[dict[str, Any]]) -> list[Schedule]:
    d = tmp_path / f"d{len(list(tmp_path.iterdir()))}"
    d.mkdir()
    return load([write_config(d, rules)], environ={}).schedules(Account(ACCOUNT), REGION)


_AWS: dict[tuple[str, str], Aws] = {}


@pytest.fixture(autouse=True)
def _fresh_aws() -> Iterator[None]:
    _AWS.clear()  # clients observed by this test's `order`, not an earlier test's
    yield
    _AWS.clear()


def _aws() -> Aws:
    """One Aws per endpoint (moto, or the fault layer) and retry setting: building clients costs more than
    the calls these tests make."""
    key = (os.environ["AWS_ENDPOINT_URL"], os.environ.get("AWS_MAX_ATTEMPTS", ""))
    if key not in _AWS:
        _AWS[key] = Aws(region=REGION)
    return _AWS[key]


def plan_now(desired: list[Schedule]) -> tuple[RulesBackend, Plan]:
    """The plan of `apply --prune`, read the way apply reads."""
    backend = RulesBackend(_aws(), REGION)
    clusters = {f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api"}
    live = backend.read({s.name for s in desired}, clusters, prune=True)
    return backend, make_plan(desired, live, prune=True, owners={"api"})


def apply_now(desired: list[Schedule]) -> list[str]:
    """Apply like `apply --prune` (the backend's part); the errors, one per failed change."""
    backend, plan = plan_now(desired)
    errors = []
    for ch in plan.actionable:
        try:
            backend.apply(ch)
        except Exception as e:  # the change stops at the fault, as in apply
            errors.append(f"{ch.name}: {e}")
    return errors


# Every scenario with a fault before the write commits; the main three also with the answer lost after it.
CASES = [(sc, "500") for sc in SCENARIOS] + [(sc, "500-after-commit") for sc in ("create", "update time and command",
                                                                                 "prune")]


@pytest.mark.parametrize(("scenario", "mode"), CASES)
def test_an_apply_interrupted_at_any_write_converges_and_never_reads_as_drift(
        aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: list[tuple[str, Any]], scenario: str,
        mode: str) -> None:
    before, after = (desired_of(tmp_path, rules) for rules in SCENARIOS[scenario])
    known = [*before, *after]

    def setup() -> None:
        moto_reset(aws)
        assert apply_now(before) == []
        order.clear()

    setup()
    assert apply_now(after) == []
    steps = [op for op, _ in order]
    assert steps, "the scenario writes something"
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # a fault is final: the change stops there
    with FaultServer(aws) as fs:
        for k, op in enumerate(steps):
            setup()
            fs.clear()
            for _ in range(steps[:k].count(op)):  # let the earlier calls of this action through
                fs.add(op, "slow", times=1)
            fs.add(op, mode, times=1)
            monkeypatch.setenv("AWS_ENDPOINT_URL", fs.url)
            errors = apply_now(after)
            monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
            assert errors, f"step {k} ({op}): the fault was reported"
            assert_one_whole_version(known)
            _, plan = plan_now(after)
            for ch in plan.changes:
                assert ch.origin not in ("outside", "both") and not ch.drift, (k, op, ch)
            order.clear()
            assert apply_now(after) == [], (k, op)
            # Enable last, also when finishing: never an ENABLED rule before its target is in place.
            if ("PutTargets", None) in order:
                first = order.index(("PutTargets", None))
                assert ("EnableRule", None) not in order[:first] and ("PutRule", "ENABLED") not in order[:first]
            assert not plan_now(after)[1].has_changes, (k, op)  # converged


def test_an_interrupted_cli_apply_converges_on_the_next_run(
        aws: str, cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path, [V1, rule("other")])
    assert cli("-c", path, "apply").code == 0
    path = write_config(tmp_path, [V2, rule("other", taskCount=2)])
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with FaultServer(aws) as fs:
        monkeypatch.setenv("AWS_ENDPOINT_URL", fs.url)
        fs.add("PutTargets", "500-after-commit", times=1)
        fs.add("PutRule", "500", times=1)
        assert cli("-c", path, "apply").code == 1
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    changes = plan_json(cli, path)
    assert {c["origin"] for c in changes if c["action"] == "update"} <= {"unfinished", "file"}
    assert cli("-c", path, "apply").code == 0
    assert cli("-c", path, "diff", "--exit-code").code == 0


def test_a_half_created_rule_gets_its_target_before_it_is_enabled(
        aws: str, cli: Callable[..., Result], tmp_path: Path, order: list[tuple[str, Any]]) -> None:
    ev = client("events")
    path = write_config(tmp_path, [V1])
    assert cli("-c", path, "apply").code == 0
    ev.remove_targets(Rule="job", Ids=["job"])
    ev.disable_rule(Name="job")  # as a create interrupted after its PutRule leaves it
    (ch,) = plan_json(cli, path)
    assert (ch["action"], ch["origin"]) == ("update", "unfinished")
    order.clear()
    assert cli("-c", path, "apply").code == 0
    assert [op for op, _ in order] == ["TagResource", "PutTargets", "PutRule", "TagResource"]
    assert order[2] == ("PutRule", "ENABLED")


def test_an_update_of_time_and_command_pauses_first_and_enables_last(
        aws: str, cli: Callable[..., Result], tmp_path: Path, order: list[tuple[str, Any]]) -> None:
    assert cli("-c", write_config(tmp_path, [V1]), "apply").code == 0
    order.clear()
    assert cli("-c", write_config(tmp_path, [V2]), "apply").code == 0
    assert order == [("TagResource", None), ("DisableRule", None), ("PutTargets", None), ("PutRule", "ENABLED"),
                     ("TagResource", None)]


def test_a_one_call_update_needs_no_marker(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                           order: list[tuple[str, Any]]) -> None:
    assert cli("-c", write_config(tmp_path, [V1]), "apply").code == 0
    order.clear()
    assert cli("-c", write_config(tmp_path, [{**V1, "scheduleExpression": "cron(0 5 * * ? *)"}]), "apply").code == 0
    assert order == [("PutRule", "ENABLED"), ("TagResource", None)]
