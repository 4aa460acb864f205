"""Issue 13 §1: extra top-level keys, as ecschedule users write them (anchors parked under `aliases:`,
script data under `batch_name:`). An unknown top-level key is a warning, `x-` keys are silent, a near
miss of a known key stays an error, and unknown keys inside a rule stay errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ecsched.config import load
from ecsched.errors import ConfigError
from tests.conftest import REGION, Result, client

ISSUE = f"""\
region: {REGION}
cluster: cron
aliases: &common            # also seen: `common:`, `batch_name:`
  launch_type: FARGATE
  network_configuration: {{aws_vpc_configuration: {{subnets: [subnet-0123abcd]}}}}
x-more: &more
  taskCount: 2
batch_name: nightly
rules:
- name: test
  scheduleExpression: cron(0 15 * * ? *)
  taskDefinition: td
  <<: [*common, *more]
"""


def write(tmp_path: Path, text: str, name: str = "ecschedule.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_unknown_top_level_keys_warn_and_anchors_merge(tmp_path: Path) -> None:
    cfg = load([str(write(tmp_path, ISSUE))], environ={})
    rule = cfg.files[0].data["rules"][0]
    assert rule["launch_type"] == "FARGATE" and rule["taskCount"] == 2
    assert [(w.line, w.message.split(" is ignored")[0]) for w in cfg.warnings] == [
        (3, "unknown top-level key `aliases`"), (8, "unknown top-level key `batch_name`")]
    assert all("x-" in w.message for w in cfg.warnings)  # the way to silence it


def test_x_keys_are_silent(tmp_path: Path) -> None:
    text = ISSUE.replace("aliases:", "x-aliases:").replace("batch_name:", "x-batch:")
    assert load([str(write(tmp_path, text))], environ={}).warnings == []


@pytest.mark.parametrize(("key", "meant"), [("rule", "rules"), ("clustr", "cluster"), ("Region", "region"),
                                            ("tracking_id", "trackingId")])
def test_a_near_miss_of_a_known_key_stays_an_error(tmp_path: Path, key: str, meant: str) -> None:
    text = ISSUE.replace("batch_name: nightly", f"{key}: x")
    with pytest.raises(ConfigError) as e:
        load([str(write(tmp_path, text))], environ={})
    [p] = e.value.problems
    assert p.line == 8 and p.message.startswith(f"unknown key `{key}`; did you mean `{meant}`?")


def test_unknown_keys_inside_a_rule_stay_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load([str(write(tmp_path, ISSUE + "  aliases: 1\n"))], environ={})
    assert [p.message.split(";")[0] for p in e.value.problems] == ["unknown key `aliases`"]


def test_validate_prints_the_warnings_and_exits_0(tmp_path: Path, cli: Callable[..., Result]) -> None:
    path = write(tmp_path, ISSUE)
    r = cli("-c", str(path), "validate")
    assert r.code == 0 and r.out == ""
    assert "unknown top-level key `aliases` is ignored" in r.err and "ok: 1 rule" in r.err
    r = cli("-c", str(path), "validate", "--format", "json")
    doc = json.loads(r.out)
    assert doc["ok"] and [p["severity"] for p in doc["problems"]] == ["warning", "warning"]
    r = cli("-c", str(path), "validate", "--format", "github")
    assert r.out.splitlines()[0].startswith(f"::warning file={path},line=3,col=1,title=ecsched validate::")


def test_diff_and_apply_read_the_issue_example(aws: str, tmp_path: Path, cli: Callable[..., Result]) -> None:
    client("ecs").create_cluster(clusterName="cron")
    path = write(tmp_path, ISSUE)
    r = cli("-c", str(path), "diff", "--exit-code")
    assert r.code == 2, r.err  # one rule to create
    assert "unknown top-level key `aliases`" in r.err
    assert cli("-c", str(path), "apply").code == 0
    assert cli("-c", str(path), "diff", "--exit-code").code == 0
    [target] = client("events").list_targets_by_rule(Rule="test")["Targets"]
    assert target["EcsParameters"]["LaunchType"] == "FARGATE" and target["EcsParameters"]["TaskCount"] == 2
