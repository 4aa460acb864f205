"""From a validated file to schedules: settings that fall back, and the errors only building finds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ecsched.arns import Account
from ecsched.config import Config, load
from ecsched.config.build import target_overrides
from ecsched.config.validate import validate_file
from ecsched.errors import ConfigError
from ecsched.model import Schedule, overrides

ACCOUNT = Account("123456789012")
RULE = {"name": "job", "scheduleExpression": "cron(0 0 * * ? *)", "taskDefinition": "task1"}


def config(tmp_path: Path, *rules: dict[str, Any], **top: Any) -> Config:
    p = tmp_path / f"f{len(list(tmp_path.iterdir()))}.yaml"
    p.write_text(yaml.safe_dump({**top, "rules": [{**RULE, **r} for r in rules]}, sort_keys=False))
    return load([str(p)], environ={})


def one(tmp_path: Path, rule: dict[str, Any] | None = None, default_region: str | None = None, **top: Any) -> Schedule:
    [s] = config(tmp_path, rule or {}, **{"region": "us-east-1", "cluster": "api", **top}).schedules(
        ACCOUNT, default_region)
    return s


def test_region_comes_from_the_rule_the_file_or_the_default(tmp_path: Path) -> None:
    cfg = config(tmp_path, {}, cluster="api")
    assert [s.region for s in cfg.schedules(ACCOUNT, "eu-west-1")] == ["eu-west-1"]
    with pytest.raises(ConfigError) as e:
        cfg.schedules(ACCOUNT, None)
    [p] = e.value.problems
    assert (p.rule, p.line) == ("job", 3)  # cluster, rules, then the rule
    assert "no region" in p.message
    assert one(tmp_path, {"region": "ap-northeast-1"}, default_region="eu-west-1").region == "ap-northeast-1"
    assert one(tmp_path, default_region="eu-west-1").region == "us-east-1"


def test_no_cluster_is_an_error_naming_the_rule(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no cluster"):
        config(tmp_path, {}, region="us-east-1").schedules(ACCOUNT)
    assert one(tmp_path, {"cluster": "batch"}).target.cluster_arn.endswith(":cluster/batch")


def test_tracking_id_is_the_top_level_cluster_exactly_as_ecschedule_writes_it(tmp_path: Path) -> None:
    assert one(tmp_path).tracking_id == "api"
    arn = "arn:aws:ecs:us-east-1:123456789012:cluster/web"
    assert one(tmp_path, cluster=arn).tracking_id == arn  # an ARN stays an ARN
    assert one(tmp_path, {"cluster": "batch"}, cluster="web").tracking_id == "web"  # the rule's cluster: no
    assert one(tmp_path, trackingId="mine").tracking_id == "mine"
    assert one(tmp_path, {"trackingId": "own"}, trackingId="mine").tracking_id == "own"  # ecschedule's too
    # No top-level cluster and no trackingId: ecschedule writes an empty tag.
    [s] = config(tmp_path, {"cluster": "batch"}, region="us-east-1").schedules(ACCOUNT)
    assert s.tracking_id == ""


def test_a_scheduler_group_is_named_after_the_cluster_in_either_spelling(tmp_path: Path) -> None:
    arn = "arn:aws:ecs:us-east-1:123456789012:cluster/web"
    by_arn = one(tmp_path, {"backend": "scheduler"}, cluster=arn)
    assert by_arn.schedule_group == one(tmp_path, {"backend": "scheduler"}, cluster="web").schedule_group
    assert by_arn.schedule_group == "ecsched-web"


def test_target_id_defaults_to_the_rule_name(tmp_path: Path) -> None:
    assert one(tmp_path).target.target_id == "job"
    assert one(tmp_path, {"targetId": "t-1"}).target.target_id == "t-1"


def test_a_rules_timezone_becomes_utc_and_keeps_what_was_written(tmp_path: Path) -> None:
    local = one(tmp_path, {"scheduleExpression": "cron(0 9 * * ? *)", "timezone": "Asia/Tokyo"})
    utc = one(tmp_path, {"scheduleExpression": "cron(0 0 * * ? *)"})
    assert local.expression == "cron(0 0 * * ? *)"
    assert local.local_expression == "cron(0 9 * * ? *) Asia/Tokyo"
    assert local == utc


def test_the_scheduler_backend_makes_its_defaults_explicit(tmp_path: Path) -> None:
    s = one(tmp_path, {"targetId": "ignored"}, backend="scheduler")
    assert (s.backend, s.timezone, s.flexible_window_minutes) == ("scheduler", "UTC", None)
    assert s.schedule_group == "ecsched-api"
    assert s.target.target_id == "job"
    assert one(tmp_path, {"flexibleTimeWindow": "off"}, backend="scheduler") == s


def test_overrides_checked_offline_are_the_ones_sent(tmp_path: Path) -> None:
    rule = {"containerOverrides": [{"name": "app", "command": ["x"], "environment": {"B": 2, "A": True}}],
            "taskOverride": {"cpu": 256}}
    s = one(tmp_path, rule)
    assert target_overrides({**RULE, **rule}) == overrides(s.target)


def test_validation_and_building_agree_on_the_scheduler_checks(tmp_path: Path) -> None:
    """What building would refuse, `validate` already reports (offline, with every other problem)."""
    bad = [{"flexibleTimeWindow": 0}, {"startDate": "tomorrow"}, {"startDate": "2031-01-02", "endDate": "2031-01-01"},
           {"dedupe": True}]
    for rule in bad:
        p = tmp_path / "s.yaml"
        p.write_text(yaml.safe_dump({"region": "us-east-1", "cluster": "api", "backend": "scheduler",
                                     "rules": [{**RULE, **rule}]}))
        cfg = load([str(p)], environ={}, validate=False)
        errors, _ = validate_file(cfg.files[0])
        assert errors, rule
        with pytest.raises(ConfigError):
            cfg.schedules(ACCOUNT)
