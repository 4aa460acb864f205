"""`timezone:` with EventBridge rules, end to end through the CLI: a fixed-offset zone becomes the
equivalent UTC cron, diff shows both forms, and a zone with daylight-saving time is refused with a
pointer to `backend: scheduler`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecsched import expressions
from tests.conftest import Result, client

HEAD = "region: us-east-1\ncluster: api\n"


def config(tmp_path: Path, body: str) -> str:
    path = tmp_path / "ecsched.yaml"
    path.write_text(HEAD + body)
    return str(path)


def live_expression(name: str) -> str:
    return str(client("events").describe_rule(Name=name)["ScheduleExpression"])


@pytest.mark.parametrize(("local", "tz", "utc"), [
    ("cron(30 3 * * ? *)", "Asia/Tokyo", "cron(30 18 * * ? *)"),
    # 03:30 on a weekday in Tokyo is the evening before in UTC: the days move back by one.
    ("cron(30 3 ? * MON-FRI *)", "Asia/Tokyo", "cron(30 18 ? * SUN-THU *)"),
    ("cron(0 9 1 * ? *)", "Asia/Tokyo", "cron(0 0 1 * ? *)"),
    ("cron(15 23 ? * SAT *)", "Asia/Kolkata", "cron(45 17 ? * SAT *)"),
])
def test_a_fixed_offset_zone_becomes_the_utc_cron(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                                  local: str, tz: str, utc: str) -> None:
    path = config(tmp_path, f"timezone: {tz}\nrules:\n  - name: job\n    scheduleExpression: {local}\n"
                            "    taskDefinition: task1\n")
    res = cli("-c", path, "diff")
    assert res.code == 0, res.err
    # Both forms: as written (with its zone) and what the rule will hold.
    assert f"+ create job  ({local} {tz} = {utc} UTC)" in res.out
    assert f"+scheduleExpression: {utc}" in res.out
    assert cli("-c", path, "apply").code == 0
    assert live_expression("job") == utc
    res = cli("-c", path, "diff", "--exit-code")
    assert res.code == 0, res.out
    # The live rule fires at the same instants as the local cron would in its zone.
    after = datetime(2026, 1, 1, tzinfo=UTC)
    want = [t.timestamp() for t in expressions.parse(local).next_fire_times(500, after=after, tz=tz)]
    got = [t.timestamp() for t in expressions.parse(live_expression("job")).next_fire_times(500, after=after)]
    assert got == want


def test_a_rule_level_timezone_overrides_the_top_level_one(aws: str, cli: Callable[..., Result],
                                                           tmp_path: Path) -> None:
    path = config(tmp_path, "timezone: Asia/Tokyo\nrules:\n"
                            "  - name: tokyo\n    scheduleExpression: cron(0 9 * * ? *)\n    taskDefinition: t\n"
                            "  - name: utc\n    timezone: UTC\n    scheduleExpression: cron(0 9 * * ? *)\n"
                            "    taskDefinition: t\n")
    assert cli("-c", path, "apply").code == 0
    assert live_expression("tokyo") == "cron(0 0 * * ? *)"
    assert live_expression("utc") == "cron(0 9 * * ? *)"


def test_changing_the_zone_is_a_change_of_the_utc_cron(aws: str, cli: Callable[..., Result],
                                                       tmp_path: Path) -> None:
    body = "rules:\n  - name: job\n    scheduleExpression: cron(0 9 * * ? *)\n    taskDefinition: t\n"
    path = config(tmp_path, "timezone: Asia/Tokyo\n" + body)
    assert cli("-c", path, "apply").code == 0
    path = config(tmp_path, "timezone: Asia/Kolkata\n" + body)
    res = cli("-c", path, "diff", "--exit-code")
    assert res.code == 2
    assert "-scheduleExpression: cron(0 0 * * ? *)" in res.out
    assert "+scheduleExpression: cron(30 3 * * ? *)" in res.out
    assert "(cron(0 9 * * ? *) Asia/Kolkata = cron(30 3 * * ? *) UTC)" in res.out


@pytest.mark.parametrize("command", [["validate"], ["diff"], ["apply"]])
def test_a_zone_with_daylight_saving_time_is_refused(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                                     command: list[str]) -> None:
    path = config(tmp_path, "rules:\n  - name: ny\n    scheduleExpression: cron(0 9 * * ? *)\n"
                            "    timezone: America/New_York\n    taskDefinition: t\n")
    res = cli("-c", path, *command)
    assert res.code == 1
    text = res.out + res.err
    assert f"{path}:6:" in text and "rule ny:" in text
    assert "daylight saving time" in text and "use `backend: scheduler`" in text
    assert "Traceback" not in text
    assert client("events").list_rules()["Rules"] == []


def test_the_same_zone_on_scheduler_is_fine(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    path = config(tmp_path, "rules:\n  - name: ny\n    scheduleExpression: cron(0 9 * * ? *)\n"
                            "    timezone: America/New_York\n    backend: scheduler\n    taskDefinition: t\n")
    assert cli("-c", path, "validate").code == 0
    assert cli("-c", path, "apply").code == 0
    s = client("scheduler").get_schedule(Name="ny", GroupName="ecsched-api")
    assert (s["ScheduleExpression"], s["ScheduleExpressionTimezone"]) == ("cron(0 9 * * ? *)", "America/New_York")
    assert cli("-c", path, "diff", "--exit-code").code == 0


def test_an_unknown_zone_is_refused(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    for backend in ("rules", "scheduler"):
        path = config(tmp_path, f"backend: {backend}\nrules:\n  - name: x\n    scheduleExpression: cron(0 9 * * ? *)\n"
                                "    timezone: Asia/Tokio\n    taskDefinition: t\n")
        res = cli("-c", path, "validate")
        assert res.code == 1, backend
        assert "Asia/Tokio" in res.out and "rule x:" in res.out


def test_a_local_cron_that_one_utc_cron_cannot_express_is_refused(aws: str, cli: Callable[..., Result],
                                                                  tmp_path: Path) -> None:
    # 09:00 Tokyo on the 1st is still the 1st in UTC, but 03:00 Tokyo on the 1st is the last day before.
    path = config(tmp_path, "timezone: Asia/Tokyo\nrules:\n  - name: x\n"
                            "    scheduleExpression: cron(0 3 1,15 * ? *)\n    taskDefinition: t\n")
    res = cli("-c", path, "diff")
    assert res.code == 1
    assert "cannot be written as one UTC cron" in res.err and "use `backend: scheduler`" in res.err
