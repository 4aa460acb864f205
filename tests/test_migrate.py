"""`ecsched migrate --to scheduler` end to end, through the CLI, against a moto server.

Time is driven by a fake clock, passed to the command (`migrate` below): fire times are computed from it
and waiting advances it, so nothing here depends on the real time or sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACCOUNT, REGION, Result, client

GROUP = "ecsched-api"
EVENTS_AND_SCHEDULER = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRole",
    "Principal": {"Service": ["events.amazonaws.com", "scheduler.amazonaws.com"]}}]}

CONFIG = """\
# Nightly jobs for the api cluster.
region: us-east-1
cluster: api
role: ecsEventsRole

# Times are Tokyo's; rules get the UTC equivalent.
timezone: Asia/Tokyo
rules:
  # The report, weekdays.
  - name: report
    scheduleExpression: cron(30 9 ? * MON-FRI *)   # 09:30 JST
    taskDefinition: task1
    containerOverrides:
      - name: app
        command: [php, artisan, report]

  - name: cleanup
    description: "old files"
    scheduleExpression: cron(0 3 * * ? *)
    taskDefinition: task1
"""


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.t = now
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += timedelta(seconds=seconds)


class Interrupt(FakeClock):
    """Ctrl-C while waiting for the quiet moment."""

    def sleep(self, seconds: float) -> None:
        raise KeyboardInterrupt


@pytest.fixture
def migrate(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """`migrate(clock, "-c", path, "--rule", "a")`: `ecsched ... migrate --to scheduler ...` with that clock,
    parsed as the CLI parses it; errors reported as the CLI reports them."""
    monkeypatch.setenv("NO_COLOR", "1")

    def run(clock: FakeClock, *argv: str) -> Result:
        from ecsched.cli import build_parser
        from ecsched.commands import migrate as command
        from ecsched.context import Context
        from ecsched.errors import EcschedError

        capsys.readouterr()
        args = build_parser().parse_args([*argv[:2], "migrate", "--to", "scheduler", *argv[2:]])
        ctx = Context.from_args(args)
        try:
            code = command.run(args, ctx, clock)
        except EcschedError as e:
            ctx.error(str(e))
            code = e.exit_code
        except KeyboardInterrupt:
            code = 130
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


# 2026-01-05 is a Monday. At 12:00 UTC nothing fires for hours: no waiting.
QUIET = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def ops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every AWS operation ecsched makes, in order, by observing botocore's events (boto3 is not patched)."""
    from ecsched.aws import Aws

    seen: list[str] = []
    original = Aws.client

    def recording(self: Aws, service: str, region: str | None = None) -> Any:
        c = original(self, service, region)
        if not getattr(c, "_ecsched_recorded", False):
            c.meta.events.register("before-call.*.*", lambda model, **_: seen.append(model.name))
            c._ecsched_recorded = True
        return c

    monkeypatch.setattr(Aws, "client", recording)
    yield seen


READS = {"GetCallerIdentity", "ListRules", "DescribeRule", "ListTargetsByRule", "ListTagsForResource",
         "ListScheduleGroups", "ListSchedules", "GetSchedule", "GetRole", "GetScheduleGroup"}


def writes(ops: list[str]) -> list[str]:
    return [op for op in ops if op not in READS]


@pytest.fixture
def setup(aws: str, cli: Callable[..., Result], tmp_path: Path) -> Path:
    client("iam").create_role(RoleName="ecsEventsRole", AssumeRolePolicyDocument=json.dumps(EVENTS_AND_SCHEDULER))
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    res = cli("-c", str(path), "apply")
    assert res.code == 0, res.err
    return path


def rules() -> dict[str, str]:
    return {r["Name"]: r["State"] for r in client("events").list_rules()["Rules"]}


def schedules() -> dict[str, str]:
    return {s["Name"]: s["State"] for s in client("scheduler").list_schedules(GroupName=GROUP)["Schedules"]}


def test_migrate_moves_every_rule_and_edits_the_file_keeping_everything_else(
        setup: Path, cli: Callable[..., Result], migrate: Callable[..., Result], ops: list[str]) -> None:
    clock = FakeClock(QUIET)
    assert rules()["report"] == "ENABLED"
    res = migrate(clock, "-c", str(setup))
    assert res.code == 0, res.err
    assert rules() == {}
    assert schedules() == {"report": "ENABLED", "cleanup": "ENABLED"}
    s = client("scheduler").get_schedule(Name="report", GroupName=GROUP)
    # On Scheduler the cron stays in Tokyo time, as written.
    assert (s["ScheduleExpression"], s["ScheduleExpressionTimezone"]) == ("cron(30 9 ? * MON-FRI *)", "Asia/Tokyo")
    # Per rule: create DISABLED, then DisableRule strictly before the schedule is enabled, then delete.
    w = writes(ops)
    assert w.index("CreateSchedule") < w.index("DisableRule") < w.index("UpdateSchedule") < w.index("RemoveTargets")
    assert w.count("DeleteRule") == 2
    # Every rule moved: one top-level line, every other byte as it was.
    expected = CONFIG.replace("\nrules:\n", "\nbackend: scheduler\nrules:\n")
    assert setup.read_text() == expected
    assert "edited" in res.out
    res = cli("-c", str(setup), "diff", "--exit-code")
    assert res.code == 0, res.out
    # Idempotent: a second run changes nothing.
    ops.clear()
    res = migrate(clock, "-c", str(setup))
    assert res.code == 0, res.err
    assert "report: rule -> schedule ecsched-api/report: already moved" in res.out
    assert writes(ops) == []
    assert setup.read_text() == expected


def test_one_rule_gets_its_own_backend_line(setup: Path, cli: Callable[..., Result],
                                            migrate: Callable[..., Result]) -> None:
    clock = FakeClock(QUIET)
    res = migrate(clock, "-c", str(setup), "--rule", "cleanup")
    assert res.code == 0, res.err
    assert rules() == {"report": "ENABLED"} and schedules() == {"cleanup": "ENABLED"}
    expected = CONFIG.replace("  - name: cleanup\n", "  - name: cleanup\n    backend: scheduler\n")
    assert setup.read_text() == expected
    assert cli("-c", str(setup), "diff", "--exit-code").code == 0


def test_dry_run_shows_the_steps_and_the_edit_and_changes_nothing(
        setup: Path, cli: Callable[..., Result], migrate: Callable[..., Result], ops: list[str]) -> None:
    clock = FakeClock(QUIET)
    ops.clear()
    res = migrate(clock, "-c", str(setup), "--dry-run")
    assert res.code == 0, res.err
    assert "1. create the schedule ecsched-api/report, DISABLED" in res.out
    assert "2. at a quiet moment between two runs: disable the rule, enable the schedule " \
           "(now: 2026-01-05 12:00:00 UTC)" in res.out
    assert "3. delete the rule" in res.out
    assert "+backend: scheduler" in res.out
    assert writes(ops) == []
    assert setup.read_text() == CONFIG
    assert rules() == {"report": "ENABLED", "cleanup": "ENABLED"} and schedules() == {}


@pytest.mark.parametrize(("now", "waited"), [
    (datetime(2026, 1, 5, 12, 4, 45, tzinfo=UTC), 105.0),  # a run at 12:05 is 15 s away: wait until 12:06:30
    (datetime(2026, 1, 5, 12, 0, 30, tzinfo=UTC), 60.0),  # the 12:00 run may still be starting: until 12:01:30
    (datetime(2026, 1, 5, 12, 2, 0, tzinfo=UTC), None),  # 2 minutes from both: switch at once
])
def test_the_switch_waits_for_a_quiet_moment_between_two_runs(
        aws: str, cli: Callable[..., Result], tmp_path: Path, migrate: Callable[..., Result],
        now: datetime, waited: float | None) -> None:
    client("iam").create_role(RoleName="ecsEventsRole", AssumeRolePolicyDocument=json.dumps(EVENTS_AND_SCHEDULER))
    path = tmp_path / "ecsched.yaml"
    path.write_text("region: us-east-1\ncluster: api\nrules:\n  - name: often\n"
                    "    scheduleExpression: cron(0/5 * * * ? *)\n    taskDefinition: task1\n")
    assert cli("-c", str(path), "apply").code == 0
    clock = FakeClock(now)
    res = migrate(clock, "-c", str(path))
    assert res.code == 0, res.err
    assert clock.slept == ([waited] if waited else [])
    assert schedules() == {"often": "ENABLED"} and rules() == {}


def test_no_quiet_moment_leaves_the_schedule_disabled_and_says_what_to_do(
        aws: str, cli: Callable[..., Result], tmp_path: Path, migrate: Callable[..., Result]) -> None:
    client("iam").create_role(RoleName="ecsEventsRole", AssumeRolePolicyDocument=json.dumps(EVENTS_AND_SCHEDULER))
    path = tmp_path / "ecsched.yaml"
    text = ("region: us-east-1\ncluster: api\nrules:\n  - name: every-minute\n"
            "    scheduleExpression: cron(* * * * ? *)\n    taskDefinition: task1\n")
    path.write_text(text)
    assert cli("-c", str(path), "apply").code == 0
    clock = FakeClock(QUIET)
    res = migrate(clock, "-c", str(path), "--max-wait", "300")
    assert res.code == 1
    assert "no quiet moment between two runs within 300s" in res.err
    assert "pause it in the file (`disabled: true`)" in res.err
    assert "Traceback" not in res.err
    assert rules() == {"every-minute": "ENABLED"} and schedules() == {"every-minute": "DISABLED"}
    assert path.read_text() == text


def test_resumes_from_every_step(setup: Path, cli: Callable[..., Result], migrate: Callable[..., Result],
                                 ops: list[str]) -> None:
    # Ctrl-C while waiting for the quiet moment: step 1 is done, nothing else, and the file is untouched.
    clock = Interrupt(datetime(2026, 1, 5, 0, 29, 50, tzinfo=UTC))  # 09:29:50 JST
    res = migrate(clock, "-c", str(setup), "--rule", "report")
    assert res.code == 130
    assert rules()["report"] == "ENABLED" and schedules() == {"report": "DISABLED"}
    assert setup.read_text() == CONFIG
    # Rerun: the schedule is not created again; the switch and the delete follow.
    clock = FakeClock(QUIET)
    ops.clear()
    res = migrate(clock, "-c", str(setup), "--rule", "report")
    assert res.code == 0, res.err
    assert writes(ops) == ["DisableRule", "UpdateSchedule", "RemoveTargets", "DeleteRule"]
    assert schedules() == {"report": "ENABLED"} and "report" not in rules()


def test_an_interrupted_switch_enables_the_schedule_at_once(setup: Path, cli: Callable[..., Result],
                                                            migrate: Callable[..., Result], ops: list[str]) -> None:
    # 03:00 JST is 18:00 UTC: ten seconds before it, migrate waits, and is interrupted.
    clock = Interrupt(datetime(2026, 1, 5, 17, 59, 50, tzinfo=UTC))
    assert migrate(clock, "-c", str(setup), "--rule", "cleanup").code == 130
    # Stopped between the two calls of the switch: the rule is off and the schedule not yet on.
    client("events").disable_rule(Name="cleanup")
    # Even right before a run (03:00 JST = 18:00 UTC) there is no waiting: every second counts.
    clock = FakeClock(datetime(2026, 1, 5, 17, 59, 50, tzinfo=UTC))
    ops.clear()
    res = migrate(clock, "-c", str(setup), "--rule", "cleanup")
    assert res.code == 0, res.err
    assert "2. enable the schedule now" in res.out
    assert clock.slept == []
    assert writes(ops) == ["UpdateSchedule", "RemoveTargets", "DeleteRule"]
    assert schedules() == {"cleanup": "ENABLED"}


def test_both_enabled_disables_the_rule_at_once(setup: Path, cli: Callable[..., Result],
                                                migrate: Callable[..., Result], ops: list[str]) -> None:
    # 03:00 JST is 18:00 UTC: ten seconds before it, migrate waits, and is interrupted.
    clock = Interrupt(datetime(2026, 1, 5, 17, 59, 50, tzinfo=UTC))
    assert migrate(clock, "-c", str(setup), "--rule", "cleanup").code == 130
    from ecsched.aws import Aws
    from ecsched.backends.scheduler import SchedulerBackend

    SchedulerBackend(Aws(region=REGION), REGION).set_state("cleanup", True)  # someone enabled it by hand
    clock = FakeClock(QUIET)
    ops.clear()
    res = migrate(clock, "-c", str(setup), "--rule", "cleanup")
    assert res.code == 0, res.err
    assert writes(ops) == ["DisableRule", "RemoveTargets", "DeleteRule"]


def test_after_the_rule_is_gone_only_the_file_is_left(setup: Path, cli: Callable[..., Result],
                                                     migrate: Callable[..., Result], ops: list[str]) -> None:
    clock = FakeClock(QUIET)
    assert migrate(clock, "-c", str(setup)).code == 0
    setup.write_text(CONFIG)  # as if the edit had been lost
    ops.clear()
    res = migrate(clock, "-c", str(setup))
    assert res.code == 0, res.err
    assert writes(ops) == []
    assert "backend: scheduler" in setup.read_text()


# --- refusals ------------------------------------------------------------------------------------


def test_refuses_a_rule_that_differs_from_the_file(setup: Path, cli: Callable[..., Result],
                                                   migrate: Callable[..., Result]) -> None:
    clock = FakeClock(QUIET)
    setup.write_text(CONFIG.replace("cron(0 3 * * ? *)", "cron(0 4 * * ? *)"))
    res = migrate(clock, "-c", str(setup), "--rule", "cleanup")
    assert res.code == 1
    assert "the live rule differs from the file (scheduleExpression): run `ecsched apply --rule cleanup` first" \
        in res.err
    assert schedules() == {} and rules()["cleanup"] == "ENABLED"


def test_refuses_a_rule_ecsched_does_not_own(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                             migrate: Callable[..., Result]) -> None:
    client("iam").create_role(RoleName="ecsEventsRole", AssumeRolePolicyDocument=json.dumps(EVENTS_AND_SCHEDULER))
    ev = client("events")
    ev.put_rule(Name="cleanup", ScheduleExpression="cron(0 18 * * ? *)")
    ev.put_targets(Rule="cleanup", Targets=[{
        "Id": "cleanup", "Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api",
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsEventsRole",
        "EcsParameters": {"TaskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/task1"}}])
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    clock = FakeClock(QUIET)
    res = migrate(clock, "-c", str(path), "--rule", "cleanup")
    assert res.code == 1
    assert "rule cleanup is not ecsched's (no ecschedule:tracking-id tag" in res.err
    assert rules() == {"cleanup": "ENABLED"}
    assert client("scheduler").list_schedule_groups()["ScheduleGroups"][-1]["Name"] == "default"


def test_refuses_a_role_scheduler_cannot_assume(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                                migrate: Callable[..., Result]) -> None:
    events_only = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "events.amazonaws.com"}}]}
    client("iam").create_role(RoleName="ecsEventsRole", AssumeRolePolicyDocument=json.dumps(events_only))
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    assert cli("-c", str(path), "apply").code == 0
    clock = FakeClock(QUIET)
    res = migrate(clock, "-c", str(path))
    assert res.code == 1
    assert "does not trust scheduler.amazonaws.com" in res.err
    assert rules() == {"report": "ENABLED", "cleanup": "ENABLED"}
    assert path.read_text() == CONFIG


def test_nothing_live_is_an_error_with_the_way_out(aws: str, tmp_path: Path, migrate: Callable[..., Result]) -> None:
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    clock = FakeClock(QUIET)
    res = migrate(clock, "-c", str(path), "--rule", "nope*")
    assert res.code == 1 and "no rule in the file matches nope*" in res.err
    res = migrate(clock, "-c", str(path), "--rule", "cleanup")
    assert res.code == 1 and "neither a rule nor a schedule named cleanup is live" in res.err


# --- the file edit -------------------------------------------------------------------------------


def test_a_flow_style_rule_is_migrated_and_its_line_edited(
        setup: Path, cli: Callable[..., Result], migrate: Callable[..., Result]) -> None:
    flow = CONFIG.replace("  - name: cleanup\n    description: \"old files\"\n    scheduleExpression: cron(0 3 * * ? *)"
                          "\n    taskDefinition: task1\n",
                          '  - {name: cleanup, description: "old files", scheduleExpression: "cron(0 3 * * ? *)",'
                          " taskDefinition: task1}\n")
    assert flow != CONFIG
    setup.write_text(flow)
    res = migrate(FakeClock(QUIET), "-c", str(setup), "--rule", "cleanup")
    assert res.code == 0, res.err
    assert schedules() == {"cleanup": "ENABLED"} and rules() == {"report": "ENABLED"}
    assert setup.read_text() == flow.replace("{name: cleanup, ", "{name: cleanup, backend: scheduler, ")
    assert cli("-c", str(setup), "diff", "--exit-code").code == 0


def test_a_layout_the_edit_cannot_handle_is_left_alone_with_a_hint(
        setup: Path, cli: Callable[..., Result], migrate: Callable[..., Result]) -> None:
    # The name is a multi-line scalar: no one-line `name:` to put `backend:` after.
    text = CONFIG.replace("  - name: cleanup\n", "  - name: >-\n      cleanup\n")
    setup.write_text(text)
    res = migrate(FakeClock(QUIET), "-c", str(setup), "--rule", "cleanup")
    assert res.code == 0, res.err
    assert "add `backend: scheduler` to cleanup in" in res.err
    assert setup.read_text() == text
    assert schedules() == {"cleanup": "ENABLED"}


def test_a_templated_file_is_edited_too(setup: Path, cli: Callable[..., Result],
                                        monkeypatch: pytest.MonkeyPatch, migrate: Callable[..., Result]) -> None:
    monkeypatch.setenv("CLUSTER", "api")
    text = CONFIG.replace("cluster: api", 'cluster: {{ must_env "CLUSTER" }}')
    setup.write_text(text)
    res = migrate(FakeClock(QUIET), "-c", str(setup), "--rule", "report")
    assert res.code == 0, res.err
    assert setup.read_text() == text.replace("  - name: report\n", "  - name: report\n    backend: scheduler\n")


def test_dry_run_writes_nothing_beside_the_config(setup: Path, migrate: Callable[..., Result]) -> None:
    # A read-only checkout must still get its preview: the edit is checked in memory.
    before = {p.name: p.read_bytes() for p in setup.parent.iterdir()}
    res = migrate(FakeClock(QUIET), "-c", str(setup), "--dry-run")
    assert res.code == 0, res.err
    assert "+backend: scheduler" in res.out and "cannot edit" not in res.err
    assert {p.name: p.read_bytes() for p in setup.parent.iterdir()} == before


def test_the_file_is_replaced_atomically_keeping_its_mode(
        setup: Path, monkeypatch: pytest.MonkeyPatch, migrate: Callable[..., Result]) -> None:
    import os

    setup.chmod(0o640)
    replaced: list[str] = []
    real = os.replace

    def replace(src: Any, dst: Any, **kw: Any) -> None:
        replaced.append(str(dst))
        real(src, dst, **kw)

    monkeypatch.setattr(os, "replace", replace)
    clock = FakeClock(QUIET)
    res = migrate(clock, "-c", str(setup))
    assert res.code == 0, res.err
    assert replaced == [str(setup)]
    assert "backend: scheduler" in setup.read_text()
    assert setup.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in setup.parent.iterdir() if p.name.startswith(".")] == []


def test_one_role_read_per_run(setup: Path, migrate: Callable[..., Result], ops: list[str]) -> None:
    # Both rules use the same role: read once in a run, and again in the next run (no cache across runs).
    res = migrate(FakeClock(QUIET), "-c", str(setup), "--dry-run")
    assert res.code == 0, res.err
    assert ops.count("GetRole") == 1
    assert migrate(FakeClock(QUIET), "-c", str(setup), "--dry-run").code == 0
    assert ops.count("GetRole") == 2
