"""`ecsched disable/enable` through the CLI: the file edit, and `--now` against a moto server."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import ACCOUNT, COMPAT, REGION, Result, client

CONFIG = """\
# Batches of the shop
region: us-east-1
cluster: api
role: ecsEventsRole

rules:
  - name: report-nightly   # the big one
    description: "nightly report"
    scheduleExpression: cron(30 18 * * ? *)
    taskDefinition: task1
    containerOverrides:
      - {name: app, command: [php, artisan, "report:nightly"]}

  - name: cleanup
    scheduleExpression: rate(1 day)
    taskDefinition: task1
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    return path


def state(name: str) -> str:
    return str(client("events").describe_rule(Name=name)["State"])


def tags(name: str) -> dict[str, str]:
    arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}"
    return {t["Key"]: t["Value"] for t in client("events").list_tags_for_resource(ResourceARN=arn)["Tags"]}


def diff_json(cli: Callable[..., Result], path: Path) -> dict:
    r = cli("-c", str(path), "diff", "--format", "json")
    assert r.code == 0, r.err
    return dict(json.loads(r.out))


# --- the file ------------------------------------------------------------------------------------


def test_disable_reports_the_line_and_enable_restores_the_bytes(cli: Callable[..., Result], config: Path) -> None:
    original = config.read_bytes()
    before = date.today().isoformat()
    r = cli("-c", str(config), "disable", "report-nightly", "--reason", "vendor API down")
    assert r.code == 0, r.err
    m = re.fullmatch(rf"{re.escape(str(config))}:10: report-nightly: \+ disabled: true  # paused "
                     rf"(\d{{4}}-\d\d-\d\d): vendor API down\n", r.out)
    assert m and m.group(1) in (before, date.today().isoformat())  # today's date, even across midnight
    assert f"    disabled: true  # paused {m.group(1)}: vendor API down\n" in config.read_text()
    assert "open a pull request" in r.err
    r = cli("-c", str(config), "enable", "report-*")
    assert r.code == 0, r.err
    assert r.out.startswith(f"{config}:10: report-nightly: - disabled: true")
    assert config.read_bytes() == original


def test_unknown_name_is_one_clear_error_and_nothing_is_written(cli: Callable[..., Result], config: Path) -> None:
    original = config.read_bytes()
    r = cli("-c", str(config), "disable", "report-nigthly", "cleanup")
    assert r.code == 1
    assert "no rule matches `report-nigthly`" in r.err and "report-nightly" in r.err
    assert "Traceback" not in r.err
    assert config.read_bytes() == original


def test_dry_run_writes_nothing(cli: Callable[..., Result], config: Path) -> None:
    original = config.read_bytes()
    r = cli("-c", str(config), "disable", "cleanup", "--dry-run")
    assert r.code == 0 and "+ disabled: true" in r.out and "nothing written" in r.err
    assert config.read_bytes() == original


def test_several_files_edit_the_one_that_defines_the_rule(cli: Callable[..., Result], tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(CONFIG)
    b.write_text("cluster: other\nrules:\n- name: export\n  scheduleExpression: rate(1 hour)\n  taskDefinition: t\n")
    before_a = a.read_bytes()
    r = cli("-c", str(tmp_path / "*.yaml"), "disable", "export")
    assert r.code == 0, r.err
    assert a.read_bytes() == before_a
    assert b.read_text().splitlines()[4] == "  disabled: true"


def test_templated_names_are_found_through_the_loader(cli: Callable[..., Result], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULE_NAME", "from-env")
    path = tmp_path / "t.yaml"
    path.write_text('cluster: c\nrules:\n- name: {{ must_env "RULE_NAME" }}\n  scheduleExpression: rate(1 day)\n'
                    '  taskDefinition: t\n  containerOverrides:\n  - name: app\n    environment:\n'
                    '      HOGE_ENV: {{ env "DUMMY_HOGE_ENV" "HOGEGE" }}\n')
    original = path.read_bytes()
    assert cli("-c", str(path), "disable", "from-env").code == 0
    assert "  disabled: true\n" in path.read_text()
    assert cli("-c", str(path), "enable", "from-env").code == 0
    assert path.read_bytes() == original


def test_jsonnet_is_refused_with_the_change_to_make(cli: Callable[..., Result]) -> None:
    path = COMPAT / "testdata" / "sample.jsonnet"
    before = path.read_bytes()
    r = cli("-c", str(path), "--ext-str", "REGION=us-east-1", "--ext-str", "CLUSTER=api", "--ext-code", "BASE=1",
            "disable", "hoge-task-name")
    assert r.code == 1
    assert "is Jsonnet, which ecsched does not rewrite" in r.err
    assert 'add the line `"disabled": true,`' in r.err
    assert path.read_bytes() == before


# --- --now: the live rule too, owned rules only ----------------------------------------------------


def test_now_flips_the_live_rule_and_the_merged_file_then_agrees(aws: str, cli: Callable[..., Result],
                                                                 config: Path) -> None:
    assert cli("-c", str(config), "apply").code == 0
    assert state("report-nightly") == "ENABLED"
    r = cli("-c", str(config), "disable", "report-nightly", "--now", "--reason", "incident 42")
    assert r.code == 0, r.err
    assert state("report-nightly") == "DISABLED"
    assert state("cleanup") == "ENABLED"
    assert "report-nightly: disabled in AWS now (DisableRule)" in r.err
    # The edited file (the PR) and AWS agree: nothing to apply once it merges.
    assert cli("-c", str(config), "diff", "--exit-code").code == 0
    # ecsched recorded what it did: a later file change is not taken for drift.
    config.write_text(config.read_text().replace("report:nightly", "report:nightly --full"))
    (change,) = [c for c in diff_json(cli, config)["changes"] if c["action"] != "noop"]
    assert change["rule"] == "report-nightly" and change["drift"] is False and change["origin"] == "file"

    r = cli("-c", str(config), "enable", "report-nightly", "--now")
    assert r.code == 0, r.err
    assert state("report-nightly") == "ENABLED"
    assert "disabled" not in config.read_text()


def test_now_without_a_file_change_still_flips_a_live_rule(aws: str, cli: Callable[..., Result],
                                                            config: Path) -> None:
    """Rerunning after the file was already edited: the live rule is what still needs doing."""
    assert cli("-c", str(config), "disable", "cleanup").code == 0
    assert cli("-c", str(config), "apply").code == 0  # created paused
    client("events").enable_rule(Name="cleanup")  # someone resumed it in the console
    r = cli("-c", str(config), "disable", "cleanup", "--now")
    assert r.code == 0, r.err
    assert "already paused in the file" in r.err
    assert state("cleanup") == "DISABLED"


def test_now_refuses_a_rule_ecsched_does_not_own(aws: str, cli: Callable[..., Result], config: Path) -> None:
    events = client("events")
    events.put_rule(Name="cleanup", ScheduleExpression="rate(1 day)", State="ENABLED")  # someone else's
    original = config.read_bytes()
    r = cli("-c", str(config), "disable", "cleanup", "--now")
    assert r.code == 1
    assert "rule cleanup: the live rule is not ecsched's" in r.err and "Nothing was written" in r.err
    assert config.read_bytes() == original
    assert state("cleanup") == "ENABLED"


def test_now_on_a_rule_not_yet_in_aws_only_edits_the_file(aws: str, cli: Callable[..., Result],
                                                          config: Path) -> None:
    r = cli("-c", str(config), "disable", "cleanup", "--now")
    assert r.code == 0, r.err
    assert "not in AWS yet" in r.err
    assert "disabled: true" in config.read_text()
    assert client("events").list_rules()["Rules"] == []


def test_now_leaves_an_earlier_drift_visible(aws: str, cli: Callable[..., Result], config: Path) -> None:
    assert cli("-c", str(config), "apply").code == 0
    before = tags("report-nightly")["ecsched:fingerprint"]
    events = client("events")
    events.put_rule(Name="report-nightly", ScheduleExpression="cron(0 5 * * ? *)", Description="nightly report")
    assert cli("-c", str(config), "disable", "report-nightly", "--now").code == 0
    assert tags("report-nightly")["ecsched:fingerprint"] == before  # not re-recorded: it had drifted
    (change,) = [c for c in diff_json(cli, config)["changes"] if c["action"] != "noop"]
    assert change["drift"] is True


def test_now_pauses_a_generated_jsonnet_rule_live_and_leaves_the_file(aws: str, cli: Callable[..., Result],
                                                                      tmp_path: Path) -> None:
    from tests.conftest import seed_ecs

    seed_ecs()
    path = tmp_path / "c.jsonnet"
    text = ("local jobs = ['hourly', 'daily'];\n{\n  region: 'us-east-1',\n  cluster: 'api',\n"
            "  role: 'ecsEventsRole',\n"
            "  rules: [{ name: j, scheduleExpression: 'rate(1 hour)', taskDefinition: 'task1' } for j in jobs],\n}\n")
    path.write_text(text)
    assert cli("-c", str(path), "apply").code == 0
    r = cli("-c", str(path), "disable", "hourly", "--now")
    assert r.code == 0, r.err
    assert "rule hourly is generated" in r.err  # the advice for the file, as a warning
    assert state("hourly") == "DISABLED" and state("daily") == "ENABLED"
    assert path.read_text() == text
    assert cli("-c", str(path), "disable", "hourly").code == 1  # without --now it is still refused
