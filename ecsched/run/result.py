"""What a run did, its exit code, and its JSON form (`--format json`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecsched.run.codes import EXIT_NOT_STARTED, EXIT_TIMEOUT, task_exit_code
from ecsched.run.logs import LogStream
from ecsched.run.signals import exit_code_after


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return None if value is None else str(value)


@dataclass
class RunResult:
    rule: str
    request: dict[str, Any]
    task_arns: list[str] = field(default_factory=list)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # last DescribeTasks view, by ARN
    failures: list[dict[str, Any]] = field(default_factory=list)
    streams: list[LogStream] = field(default_factory=list)
    essential: list[str] | None = None
    exit_code: int = 0
    waited: bool = True
    timed_out: bool = False
    timeout: float | None = None
    signal_name: str | None = None
    stop_requested: bool = False  # StopTask answered for every task it was sent for
    stop_errors: dict[str, str] = field(default_factory=dict)  # task ARN -> why StopTask failed (last try)
    stop_waited: float | None = None  # set when the task had not stopped after this many seconds
    gave_up_stopping: bool = False  # a second signal: not waiting for the stop
    lost: str | None = None  # why ecsched lost track of the task(s) (--lost-timeout, or gone from ECS)
    adopted: bool = False  # RunTask's answer was lost; the task was found by startedBy

    def status(self, arn: str) -> str | None:
        return self.tasks.get(arn, {}).get("lastStatus")

    @property
    def all_stopped(self) -> bool:
        return bool(self.task_arns) and all(self.status(a) == "STOPPED" for a in self.task_arns)

    def final_exit_code(self) -> int:
        """A signal, then --timeout, then "lost" or a start failure (125), then the first failing task."""
        if self.signal_name:
            return exit_code_after(self.signal_name)
        if self.timed_out:
            return EXIT_TIMEOUT
        if self.lost or self.failures or not self.task_arns:
            return EXIT_NOT_STARTED
        for arn in self.task_arns:
            code = task_exit_code(self.tasks.get(arn, {}), self.essential)
            if code:
                return code
        return 0

    def task_json(self, arn: str) -> dict[str, Any]:
        t = self.tasks.get(arn, {"taskArn": arn})
        streams = {s.container: s for s in self.streams if s.task_arn == arn}
        ess = set(self.essential) if self.essential is not None else None
        containers = []
        for c in t.get("containers") or []:
            name = str(c.get("name"))
            s = streams.get(name)
            containers.append({
                "name": name,
                "essential": ess is None or name in ess,
                "lastStatus": c.get("lastStatus"),
                "exitCode": c.get("exitCode"),
                "reason": c.get("reason"),
                "logGroup": s.group if s else None,
                "logStream": s.stream if s else None,
            })
        started, stopped = t.get("startedAt"), t.get("stoppedAt")
        duration = None
        if isinstance(started, datetime) and isinstance(stopped, datetime):
            duration = round((stopped - started).total_seconds(), 3)
        return {
            "taskArn": arn,
            "lastStatus": t.get("lastStatus"),
            "desiredStatus": t.get("desiredStatus"),
            "exitCode": task_exit_code(t, self.essential) if t.get("lastStatus") == "STOPPED" else None,
            "stopCode": t.get("stopCode"),
            "stoppedReason": t.get("stoppedReason") or None,
            "createdAt": _iso(t.get("createdAt")),
            "startedAt": _iso(started),
            "stoppedAt": _iso(stopped),
            "duration": duration,
            "containers": containers,
            "logStreams": [f"{s.group}:{s.stream}" for s in self.streams if s.task_arn == arn],
            "stopError": self.stop_errors.get(arn),
        }

    def to_json(self) -> dict[str, Any]:
        tasks = [self.task_json(a) for a in self.task_arns]
        first = tasks[0] if tasks else {}
        return {
            "rule": self.rule,
            "cluster": self.request.get("cluster"),
            "taskDefinition": (self.tasks.get(self.task_arns[0], {}).get("taskDefinitionArn")
                               if self.task_arns else None) or self.request.get("taskDefinition"),
            "startedBy": self.request.get("startedBy"),
            "exitCode": self.exit_code,
            "waited": self.waited,
            "timedOut": self.timed_out,
            "signal": self.signal_name,
            "stopRequested": self.stop_requested,
            "lost": self.lost,
            "foundByStartedBy": self.adopted,
            "taskArn": first.get("taskArn"),
            "taskArns": list(self.task_arns),
            "lastStatus": first.get("lastStatus"),
            "stopCode": first.get("stopCode"),
            "stoppedReason": first.get("stoppedReason"),
            "startedAt": first.get("startedAt"),
            "stoppedAt": first.get("stoppedAt"),
            "duration": first.get("duration"),
            "containers": first.get("containers", []),
            "logStreams": first.get("logStreams", []),
            "tasks": tasks,
            "failures": self.failures,
        }
