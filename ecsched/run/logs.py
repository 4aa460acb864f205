"""CloudWatch Logs of a task's essential containers, streamed as they arrive.

GetLogEvents pages forward with `nextForwardToken` from the head of each stream. A failed round keeps the
token, so the next one resumes where the last stopped: nothing is lost or repeated. Transient errors are
retried with backoff for as long as the task runs; only a permanent one (access denied) ends a stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecsched import arns
from ecsched.run.retry import backoff, explain, is_transient
from ecsched.run.taskdef import TaskDefinitionInfo

if TYPE_CHECKING:
    from ecsched.aws import Aws

MAX_LOG_PAGES = 50  # per stream per round, so a chatty task cannot starve the status poll
LOG_RETRY_BASE = 2.0  # seconds before the first retry of a stream whose read failed
LOG_RETRY_CAP = 30.0
DRAIN_ATTEMPTS = 3  # reads of the last lines after STOPPED, when they fail


@dataclass
class LogStream:
    task_arn: str
    container: str
    group: str
    region: str
    stream: str
    label: str = ""
    token: str | None = None
    found: bool = False
    broken: bool = False  # a permanent error: not read again
    failures: int = 0  # failed rounds in a row
    retry_at: float = 0.0  # not read again before this (monotonic clock)

    @property
    def name(self) -> str:
        return f"{self.group} {self.stream}"


def log_streams(task_arn: str, td: TaskDefinitionInfo, default_region: str) -> list[LogStream]:
    """The awslogs streams of a task's essential containers: `prefix/container/task-id`."""
    out = []
    for c in td.essential:
        if c.log is None or not c.log.prefix:
            continue  # no awslogs, or no prefix (EC2): the stream name is not predictable
        out.append(LogStream(task_arn=task_arn, container=c.name, group=c.log.group,
                             region=c.log.region or default_region,
                             stream=f"{c.log.prefix}/{c.name}/{arns.task_id(task_arn)}"))
    return out


class LogFollower:
    """Tails several CloudWatch Logs streams with GetLogEvents (startFromHead, nextForwardToken)."""

    def __init__(self, aws: Aws, streams: list[LogStream], write: Callable[[str], None],
                 warn: Callable[[str], None], *, note: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 retry_base: float = LOG_RETRY_BASE) -> None:
        self.aws = aws
        self.streams = streams
        self.write = write
        self.warn = warn
        self.note = note or warn
        self.clock = clock
        self.sleep = sleep
        self.retry_base = retry_base
        tasks = {s.task_arn for s in streams}
        for s in streams:
            if len(streams) > 1:
                s.label = s.container if len(tasks) == 1 else f"{s.container}/{arns.task_id(s.task_arn)[:8]}"

    def poll(self, *, force: bool = False) -> int:
        """Print whatever arrived since the last call; returns the number of lines printed. Streams that
        failed recently wait for their retry time, unless `force`."""
        now = self.clock()
        return sum(self._poll_one(s) for s in self.streams
                   if not s.broken and (force or s.retry_at <= now))

    def drain(self) -> int:
        """The last lines after the task stopped: a few tries, since nothing comes after this."""
        printed = 0
        for attempt in range(1, DRAIN_ATTEMPTS + 1):
            printed += self.poll(force=True)
            if not any(s.failures and not s.broken for s in self.streams) or attempt == DRAIN_ATTEMPTS:
                break
            self.sleep(min(backoff(attempt, self.retry_base, LOG_RETRY_CAP), 5.0))
        for s in self.streams:
            if s.failures and not s.broken:
                self.warn(f"cannot read the last lines of logs {s.name}: they are in CloudWatch Logs")
        return printed

    def _poll_one(self, s: LogStream) -> int:
        client = self.aws.client("logs", s.region)
        printed = 0
        for _ in range(MAX_LOG_PAGES):
            kwargs: dict[str, Any] = {"logGroupName": s.group, "logStreamName": s.stream,
                                      "startFromHead": True}
            if s.token:
                kwargs["nextToken"] = s.token
            try:
                resp = client.get_log_events(**kwargs)
            except Exception as e:
                code = getattr(e, "response", {}).get("Error", {}).get("Code", "")
                if code == "ResourceNotFoundException":
                    return printed  # the stream appears when the container starts: normal early on
                self._failed(s, e)
                return printed
            if s.failures:
                self.note(f"ecsched: reading logs {s.name} again after {s.failures} failed "
                          f"round{'s' if s.failures != 1 else ''}")
                s.failures, s.retry_at = 0, 0.0
            s.found = True
            for ev in resp.get("events") or []:
                for line in str(ev.get("message", "")).rstrip("\n").split("\n"):
                    self.write(f"{s.label} | {line}" if s.label else line)
                    printed += 1
            token = resp.get("nextForwardToken")
            if not token or token == s.token:
                return printed  # the same token again: the end of the stream for now
            s.token = token
        return printed

    def _failed(self, s: LogStream, e: Exception) -> None:
        if not is_transient(e):
            if not type(e).__module__.startswith(("botocore", "boto3")):
                raise e  # a bug of ours, not AWS
            s.broken = True
            self.warn(f"cannot read logs {s.name}: {explain(e)}")
            return
        s.failures += 1
        s.retry_at = self.clock() + backoff(s.failures, self.retry_base, LOG_RETRY_CAP)
        if s.failures == 1:
            self.warn(f"cannot read logs {s.name} ({explain(e)}); retrying")
