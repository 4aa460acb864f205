"""No spurious diffs, for any combination of fields the schema allows: apply, then diff is empty and a
second apply makes zero write calls. Generated configs, applied to a moto server."""

from __future__ import annotations

import json
import string
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ACCOUNT, REGION, Result, count_of, moto_reset
from tests.test_backend_rules import WRITES

EXPRESSIONS = ["cron(0 3 * * ? *)", "cron(30 18 ? * MON-FRI *)", "cron(0/15 * * * ? *)", "rate(1 hour)",
               "rate(5 minutes)", "cron(0 0 1 * ? *)", "cron(0 9 ? * 2#1 *)", "cron(0 0 L * ? *)"]
ident = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=12)
env_key = st.text(string.ascii_uppercase + "_", min_size=1, max_size=8)
value = st.text(max_size=20)


@st.composite
def rule_dicts(draw: st.DrawFn, name: str) -> dict[str, Any]:
    r: dict[str, Any] = {"name": name, "scheduleExpression": draw(st.sampled_from(EXPRESSIONS)),
                         "taskDefinition": draw(st.sampled_from(
                             ["app", "app:3", f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/batch:7"]))}
    opt = draw(st.sets(st.sampled_from([
        "description", "disabled", "targetId", "taskCount", "taskOverride", "containerOverrides", "role", "group",
        "platform_version", "network", "dlq", "propagateTags", "retryPolicy", "exec", "managedTags", "placement",
        "tags", "dedupe", "cluster"])))
    if "description" in opt:
        r["description"] = draw(value)
    if "disabled" in opt:
        r["disabled"] = draw(st.booleans())
    if "targetId" in opt:
        r["targetId"] = draw(ident)
    if "taskCount" in opt:
        r["taskCount"] = draw(st.integers(1, 10))
    if "taskOverride" in opt:
        r["taskOverride"] = {k: v for k, v in (("cpu", draw(st.sampled_from([None, "256", 1024]))),
                                                ("memory", draw(st.sampled_from([None, "512", 2048]))))
                             if v is not None}
    if "containerOverrides" in opt or "dedupe" in opt:
        r["containerOverrides"] = [
            {"name": f"c{i}",
             **({"command": draw(st.lists(value, min_size=1, max_size=3))} if draw(st.booleans()) else {}),
             **({"environment": draw(st.dictionaries(env_key, st.one_of(value, st.integers(0, 99), st.booleans()),
                                                     max_size=3))} if draw(st.booleans()) else {}),
             **({"cpu": draw(st.integers(0, 512))} if draw(st.booleans()) else {})}
            for i in range(draw(st.integers(1, 2)))]
    if "dedupe" in opt:
        r["dedupe"] = True
    if "role" in opt:
        r["role"] = draw(st.sampled_from(["batchRole", "service-role/batch", f"arn:aws:iam::{ACCOUNT}:role/x"]))
    if "group" in opt:
        r["group"] = draw(ident)
    launch = draw(st.sampled_from(["none", "EC2", "FARGATE", "cps"]))
    if "platform_version" in opt and launch in ("FARGATE", "cps"):  # AWS: Fargate only
        r["platform_version"] = draw(st.sampled_from(["LATEST", "1.4.0"]))
    if launch in ("FARGATE", "cps") or "network" in opt:
        r["network_configuration"] = {"aws_vpc_configuration": {
            "subnets": draw(st.lists(st.sampled_from(["subnet-a", "subnet-b", "subnet-c"]), min_size=1, max_size=3,
                                     unique=True)),
            **({"security_groups": draw(st.lists(st.sampled_from(["sg-1", "sg-2"]), min_size=1, unique=True))}
               if draw(st.booleans()) else {}),
            # AWS gives a public IP to Fargate tasks only.
            **({"assign_public_ip": draw(st.sampled_from(
                ["ENABLED", "DISABLED"] if launch in ("FARGATE", "cps") else ["DISABLED"]))}
               if draw(st.booleans()) else {}),
        }}
    if launch in ("EC2", "FARGATE"):
        r["launch_type"] = launch
    elif launch == "cps":
        r["capacityProviderStrategy"] = [{"capacityProvider": "FARGATE_SPOT", "weight": draw(st.integers(0, 5)),
                                          **({"base": 1} if draw(st.booleans()) else {})}]
    if "dlq" in opt:
        r["dead_letter_config"] = {"sqs": draw(st.sampled_from(["dlq", f"arn:aws:sqs:{REGION}:{ACCOUNT}:other"]))}
    if "propagateTags" in opt:
        r["propagateTags"] = "TASK_DEFINITION"
    if "retryPolicy" in opt:
        r["retryPolicy"] = {"maximumRetryAttempts": draw(st.integers(0, 185)),
                            **({"maximumEventAgeInSeconds": draw(st.integers(60, 86400))} if draw(st.booleans())
                               else {})}
    if "exec" in opt:
        r["enableExecuteCommand"] = draw(st.booleans())
    if "managedTags" in opt:
        r["enableECSManagedTags"] = draw(st.booleans())
    if "placement" in opt and launch == "EC2":
        r["placementConstraints"] = [{"type": "distinctInstance"}]
        r["placementStrategy"] = [{"type": "spread", "field": "attribute:ecs.availability-zone"}]
    if "tags" in opt:
        r["tags"] = draw(st.dictionaries(ident, ident, max_size=3))
    if "cluster" in opt:
        r["cluster"] = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api"
    return r


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 4))
    names = [f"rule-{i}" for i in range(n)]
    return {"region": REGION, "cluster": "api", "role": "ecsEventsRole",
            "rules": [draw(rule_dicts(name)) for name in names]}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=configs())
def test_apply_then_diff_is_empty_and_reapply_writes_nothing(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                                             calls: Counter[str], doc: dict[str, Any]) -> None:
    moto_reset(aws)
    assert_round_trip(cli, calls, tmp_path, doc, WRITES)


def assert_round_trip(cli: Callable[..., Result], calls: Counter[str], tmp_path: Path, doc: dict[str, Any],
                      writes: set[str]) -> None:
    """`doc` validates and applies; then diff is clean and a second apply makes none of `writes`."""
    path = tmp_path / "ecsched.json"
    path.write_text(json.dumps(doc))
    checked = cli("-c", str(path), "validate")
    assert checked.code == 0, checked.out + checked.err
    first = cli("-c", str(path), "apply")
    assert first.code == 0, first.err
    diff = cli("-c", str(path), "diff", "--exit-code", "--format", "json")
    assert diff.code == 0, diff.out
    calls.clear()
    again = cli("-c", str(path), "apply")
    assert again.code == 0
    assert count_of(calls, writes) == 0, calls
