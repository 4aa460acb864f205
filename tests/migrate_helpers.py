"""Shared by the migrate tests: the config, a fake clock, and what is live (the fixtures that run
`ecsched migrate` are in migrate_fixtures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import client

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


QUIET = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


READS = {"GetCallerIdentity", "ListRules", "DescribeRule", "ListTargetsByRule", "ListTagsForResource",
         "ListScheduleGroups", "ListSchedules", "GetSchedule", "GetRole", "GetScheduleGroup"}


def writes(ops: list[str]) -> list[str]:
    return [op for op in ops if op not in READS]


def rules() -> dict[str, str]:
    return {r["Name"]: r["State"] for r in client("events").list_rules()["Rules"]}


def schedules() -> dict[str, str]:
    return {s["Name"]: s["State"] for s in client("scheduler").list_schedules(GroupName=GROUP)["Schedules"]}
