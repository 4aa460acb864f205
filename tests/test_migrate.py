"""`ecsched migrate --to scheduler` end to end, through the CLI's parser, against a moto server: the
steps, the quiet moment, resuming from every step.

Time is driven by a fake clock, passed to the command (`migrate` in migrate_helpers): fire times are
computed from it and waiting advances it, so nothing here depends on the real time or sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import REGION, Result, client
from tests.migrate_helpers import (
    CONFIG,
    EVENTS_AND_SCHEDULER,
    GROUP,
    QUIET,
    FakeClock,
    Interrupt,
    rules,
    schedules,
    writes,
)

pytest_plugins = ["tests.migrate_fixtures"]  # the `migrate`, `ops` and `setup` fixtures


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
