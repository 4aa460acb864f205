"""Drift on a moto server: a rule changed behind ecsched's back (boto3, as the console would) is told apart
from a change made in the file, in text, json and markdown, and fails a nightly `diff --exit-code`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACCOUNT, REGION, Result, client

CONFIG = """\
region: us-east-1
cluster: api
role: ecsEventsRole
rules:
- name: report
  scheduleExpression: cron(30 18 * * ? *)
  taskDefinition: task1
  containerOverrides:
  - name: app
    command: [php, artisan, report]
- name: cleanup
  scheduleExpression: rate(1 day)
  taskDefinition: task1
"""


@pytest.fixture
def applied(aws: str, cli: Callable[..., Result], tmp_path: Path) -> Path:
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    r = cli("-c", str(path), "apply")
    assert r.code == 0, r.err
    assert cli("-c", str(path), "diff", "--exit-code").code == 0
    return path


def changes(cli: Callable[..., Result], path: Path) -> list[dict[str, Any]]:
    r = cli("-c", str(path), "diff", "--format", "json")
    assert r.code == 0, r.err
    return [c for c in json.loads(r.out)["changes"] if c["action"] != "noop"]


def edit_file(path: Path) -> None:
    path.write_text(path.read_text().replace("[php, artisan, report]", "[php, artisan, report, --full]"))


def test_paused_in_the_console_is_drift(applied: Path, cli: Callable[..., Result]) -> None:
    client("events").disable_rule(Name="report")
    (ch,) = changes(cli, applied)
    assert (ch["rule"], ch["action"], ch["drift"], ch["origin"], ch["resuming"]) == \
        ("report", "update", True, "outside", True)
    assert [f["path"] for f in ch["fields"]] == ["disabled"]
    text = cli("-c", str(applied), "diff")
    assert "~ update report  (RESUME; DRIFT: changed outside ecsched; apply reverts it)" in text.out
    assert "Drift: 1 rule was changed outside ecsched" in text.out
    md = cli("-c", str(applied), "diff", "--format", "markdown").out
    assert "> [!WARNING]" in md and "`report`" in md and "⚠ **drift**" in md
    assert "the file did not change. Applying reverts it to the file." in md
    # The nightly check fails; apply puts it back; then the check passes.
    assert cli("-c", str(applied), "diff", "--exit-code").code == 2
    assert cli("-c", str(applied), "apply").code == 0
    assert client("events").describe_rule(Name="report")["State"] == "ENABLED"
    assert cli("-c", str(applied), "diff", "--exit-code").code == 0


def test_changed_in_the_file_only_is_not_drift(applied: Path, cli: Callable[..., Result]) -> None:
    edit_file(applied)
    (ch,) = changes(cli, applied)
    assert (ch["rule"], ch["drift"], ch["origin"]) == ("report", False, "file")
    text = cli("-c", str(applied), "diff").out
    assert "DRIFT" not in text and "Drift" not in text
    md = cli("-c", str(applied), "diff", "--format", "markdown").out
    assert "drift" not in md.lower()


def test_changed_in_both_places(applied: Path, cli: Callable[..., Result]) -> None:
    client("events").disable_rule(Name="report")
    edit_file(applied)
    (ch,) = changes(cli, applied)
    assert (ch["drift"], ch["origin"]) == (True, "both")
    assert sorted(f["path"] for f in ch["fields"]) == ["containerOverrides[app].command", "disabled"]
    assert "DRIFT: changed in the file and outside ecsched" in cli("-c", str(applied), "diff").out


def test_target_changed_outside_is_drift(applied: Path, cli: Callable[..., Result]) -> None:
    events = client("events")
    (target,) = events.list_targets_by_rule(Rule="cleanup")["Targets"]
    target["EcsParameters"]["TaskCount"] = 3
    events.put_targets(Rule="cleanup", Targets=[target])
    (ch,) = changes(cli, applied)
    assert (ch["rule"], ch["origin"]) == ("cleanup", "outside")
    assert ch["fields"] == [{"path": "taskCount", "before": 3, "after": 1}]  # the default, as a value


def test_schedule_changed_outside_is_drift(applied: Path, cli: Callable[..., Result]) -> None:
    client("events").put_rule(Name="report", ScheduleExpression="cron(0 5 * * ? *)", State="ENABLED")
    (ch,) = changes(cli, applied)
    assert (ch["origin"], ch["drift"]) == ("outside", True)
    assert {"path": "scheduleExpression", "before": "cron(0 5 * * ? *)", "after": "cron(30 18 * * ? *)"} \
        in ch["fields"]


def test_console_change_undone_by_hand_is_clean(applied: Path, cli: Callable[..., Result]) -> None:
    events = client("events")
    events.disable_rule(Name="report")
    events.enable_rule(Name="report")
    assert cli("-c", str(applied), "diff", "--exit-code").code == 0


def test_after_a_file_change_is_applied_there_is_no_drift(applied: Path, cli: Callable[..., Result]) -> None:
    """apply records the new fingerprint, so the next console change is measured from it."""
    edit_file(applied)
    assert cli("-c", str(applied), "apply").code == 0
    assert cli("-c", str(applied), "diff", "--exit-code").code == 0
    client("events").disable_rule(Name="report")
    (ch,) = changes(cli, applied)
    assert ch["origin"] == "outside"


def test_rules_without_a_record_are_unknown_not_drift(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    """A rule written the way ecschedule writes it: owned (tracking tag), no fingerprint."""
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    assert cli("-c", str(path), "apply").code == 0
    arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/report"
    events = client("events")
    events.untag_resource(ResourceARN=arn, TagKeys=["ecsched:fingerprint"])
    events.disable_rule(Name="report")
    (ch,) = changes(cli, path)
    assert (ch["drift"], ch["origin"]) == (False, "unknown")
    # One apply records a fingerprint; from then on, drift is seen.
    assert cli("-c", str(path), "apply").code == 0
    events.disable_rule(Name="report")
    (ch,) = changes(cli, path)
    assert ch["origin"] == "outside"
