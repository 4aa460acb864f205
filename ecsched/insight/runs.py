"""One run of a task, read from either source that has it.

DescribeTasks (the last hour ECS keeps) and the "ECS Task State Change" event (the history log group)
carry the same camelCase fields; boto3 gives datetimes where the event has ISO text. Both become a Run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Outcome = Literal["running", "succeeded", "failed", "stopped"]
Source = Literal["ecs", "history"]


@dataclass(frozen=True)
class Container:
    name: str
    exit_code: int | None = None
    reason: str = ""
    essential: bool | None = None  # None: not known (the task definition was not read)


@dataclass(frozen=True)
class Run:
    task_arn: str
    cluster_arn: str = ""
    started_by: str = ""
    group: str = ""
    task_definition_arn: str = ""
    last_status: str = ""
    stop_code: str = ""
    stopped_reason: str = ""
    created_at: datetime | None = None
    pull_started_at: datetime | None = None
    pull_stopped_at: datetime | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    containers: tuple[Container, ...] = ()
    overrides: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    version: int = 0  # detail.version of the event (0 for DescribeTasks)
    source: Source = "ecs"

    @property
    def family(self) -> str:
        """`app` of `arn:...:task-definition/app:3`."""
        return self.task_definition_arn.rsplit("/", 1)[-1].split(":", 1)[0]

    @property
    def stopped(self) -> bool:
        return self.last_status == "STOPPED"

    @property
    def start(self) -> datetime | None:
        """When the run began: started, else created (a task that never started)."""
        return self.started_at or self.created_at

    @property
    def begin(self) -> datetime | None:
        """When the scheduler launched it: created, else started."""
        return self.created_at or self.started_at

    def end(self, now: datetime) -> datetime | None:
        return self.stopped_at if self.stopped else now

    def duration(self, now: datetime) -> float | None:
        start, end = self.start, self.end(now)
        return (end - start).total_seconds() if start and end else None

    @property
    def pull_seconds(self) -> float | None:
        if self.pull_started_at and self.pull_stopped_at:
            return (self.pull_stopped_at - self.pull_started_at).total_seconds()
        return None

    @property
    def essential(self) -> tuple[Container, ...]:
        """The essential containers; all of them when that is not known."""
        known = [c for c in self.containers if c.essential]
        return tuple(known) if known else tuple(c for c in self.containers if c.essential is not False)

    @property
    def outcome(self) -> Outcome:
        if not self.stopped:
            return "running"
        if self.stop_code == "TaskFailedToStart":
            return "failed"
        codes = [c.exit_code for c in self.essential]
        if any(code not in (None, 0) for code in codes):
            return "failed"
        if codes and all(code == 0 for code in codes):
            return "succeeded"
        return "stopped"  # stopped with no exit code: stopped by someone, or never ran

    def with_essential(self, names: set[str]) -> Run:
        from dataclasses import replace

        return replace(self, containers=tuple(replace(c, essential=c.name in names) for c in self.containers))


def parse_time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    try:
        text = str(value).replace("Z", "+00:00")
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def from_task(t: dict[str, Any], source: Source = "ecs", version: int | None = None) -> Run:
    """A Run from a DescribeTasks task or an event's `detail` (the same field names)."""
    containers = tuple(
        Container(name=str(c.get("name", "")),
                  exit_code=int(c["exitCode"]) if c.get("exitCode") is not None else None,
                  reason=str(c.get("reason") or ""))
        for c in t.get("containers") or [] if isinstance(c, dict))
    ov = t.get("overrides")
    return Run(
        task_arn=str(t.get("taskArn", "")),
        cluster_arn=str(t.get("clusterArn", "")),
        started_by=str(t.get("startedBy") or ""),
        group=str(t.get("group") or ""),
        task_definition_arn=str(t.get("taskDefinitionArn") or ""),
        last_status=str(t.get("lastStatus") or ""),
        stop_code=str(t.get("stopCode") or ""),
        stopped_reason=str(t.get("stoppedReason") or ""),
        created_at=parse_time(t.get("createdAt")),
        pull_started_at=parse_time(t.get("pullStartedAt")),
        pull_stopped_at=parse_time(t.get("pullStoppedAt")),
        started_at=parse_time(t.get("startedAt")),
        stopped_at=parse_time(t.get("stoppedAt")),
        containers=containers,
        overrides=ov if isinstance(ov, dict) else {},
        version=int(t.get("version") or 0) if version is None else version,
        source=source,
    )


def newest_first(runs: list[Run]) -> list[Run]:
    """By when each began (unknown last), then by ARN so the order is stable."""
    floor = datetime.min.replace(tzinfo=UTC)
    return sorted(runs, key=lambda r: (r.begin or r.stopped_at or floor, r.task_arn), reverse=True)


def iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z") if dt else None


def to_json(r: Run, now: datetime) -> dict[str, Any]:
    return {
        "taskArn": r.task_arn,
        "startedBy": r.started_by,
        "source": r.source,
        "outcome": r.outcome,
        "lastStatus": r.last_status,
        "createdAt": iso(r.created_at),
        "startedAt": iso(r.started_at),
        "stoppedAt": iso(r.stopped_at),
        "durationSeconds": r.duration(now),
        "pullSeconds": r.pull_seconds,
        "stopCode": r.stop_code or None,
        "stoppedReason": r.stopped_reason or None,
        "containers": [{"name": c.name, "exitCode": c.exit_code, "essential": c.essential,
                        **({"reason": c.reason} if c.reason else {})} for c in r.containers],
    }
