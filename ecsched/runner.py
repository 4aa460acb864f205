"""`ecsched run`: start a schedule's task now, exactly as EventBridge would, and follow it to the end.

The pieces, each usable on its own:

- `build_request()`   the RunTask request EventBridge sends for a target, plus the user's overrides;
- `TaskDefinitionInfo` what we need from DescribeTaskDefinition (essential containers, awslogs);
- `LogFollower`       CloudWatch Logs of the essential containers, streamed as they arrive;
- `exit_code_of()`    `docker run`'s exit-code contract for a stopped task;
- `Runner`            RunTask, the DescribeTasks poll loop, signals, --timeout, the result.

Exit codes: the first non-zero exit code of an essential container (0 when all exited 0); 125 when ecsched
could not start the task or the task failed to start; 124 on --timeout; 128+N after signal N (130, 143).
"""

from __future__ import annotations

import copy
import getpass
import json
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ecsched import arns
from ecsched.durations import parse_duration as _parse_duration
from ecsched.errors import EcschedError
from ecsched.model import EcsTarget, overrides

if TYPE_CHECKING:
    from ecsched.aws import Aws
    from ecsched.context import Context

EXIT_TIMEOUT = 124
EXIT_NOT_STARTED = 125
DEFAULT_POLL_INTERVAL = 6.0  # seconds between DescribeTasks calls
LOG_POLL_INTERVAL = 2.0  # at most this long between GetLogEvents rounds
MAX_LOG_PAGES = 50  # per stream per round, so a chatty task cannot starve the status poll
MISSING_LIMIT = 3  # consecutive DescribeTasks answers without our task before we give up
_STARTED_BY_BAD = re.compile(r"[^A-Za-z0-9\-/_]")


class NotStarted(EcschedError):
    """ecsched could not start the task: exit 125, like `docker run`."""

    exit_code = EXIT_NOT_STARTED


# --- small helpers ----------------------------------------------------------------------------


def poll_interval(environ: Mapping[str, str] | None = None) -> float:
    """Seconds between DescribeTasks calls: $ECSCHED_POLL_INTERVAL, default 6."""
    raw = (environ if environ is not None else os.environ).get("ECSCHED_POLL_INTERVAL", "")
    if not raw:
        return DEFAULT_POLL_INTERVAL
    try:
        value = float(raw)
    except ValueError:
        raise EcschedError(f"ECSCHED_POLL_INTERVAL={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise EcschedError(f"ECSCHED_POLL_INTERVAL={raw!r} must be greater than 0")
    return value


def parse_duration(text: str) -> float:
    """`--timeout`: a positive duration."""
    return _parse_duration(text, "--timeout", positive=True)


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m:02d}m{s:02d}s"
    if m:
        return f"{m}m{s:02d}s"
    return f"{s}s"


def started_by(rule: str) -> str:
    """RunTask `startedBy` naming ecsched and the rule: ≤128 characters of [A-Za-z0-9-/_]."""
    return _STARTED_BY_BAD.sub("_", f"ecsched/{rule}")[:128]


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry and no $USER, as in some containers
        return "unknown"


def stop_reason(why: str) -> str:
    """StopTask reason (≤255 characters): who stopped the task and why, as the console shows it."""
    return f"Stopped by ecsched run for {current_user()}: {why}"[:255]


def task_id(task_arn: str) -> str:
    return arns.task_id(task_arn)


# --- the task definition ----------------------------------------------------------------------


@dataclass(frozen=True)
class LogConfig:
    group: str
    region: str | None
    prefix: str | None


@dataclass(frozen=True)
class ContainerInfo:
    name: str
    essential: bool
    log: LogConfig | None = None


@dataclass(frozen=True)
class TaskDefinitionInfo:
    arn: str
    containers: tuple[ContainerInfo, ...]

    @classmethod
    def from_response(cls, td: dict[str, Any]) -> TaskDefinitionInfo:
        out = []
        for c in td.get("containerDefinitions") or []:
            log = None
            lc = c.get("logConfiguration") or {}
            opts = lc.get("options") or {}
            if lc.get("logDriver") == "awslogs" and opts.get("awslogs-group"):
                log = LogConfig(group=str(opts["awslogs-group"]), region=opts.get("awslogs-region"),
                                prefix=opts.get("awslogs-stream-prefix"))
            # `essential` defaults to true in ECS.
            essential = c.get("essential", True) is not False
            out.append(ContainerInfo(name=str(c["name"]), essential=essential, log=log))
        return cls(arn=str(td.get("taskDefinitionArn", "")), containers=tuple(out))

    @property
    def essential(self) -> list[ContainerInfo]:
        return [c for c in self.containers if c.essential]

    def main_container(self) -> str | None:
        ess = self.essential
        return ess[0].name if ess else (self.containers[0].name if self.containers else None)

    def names(self) -> list[str]:
        return [c.name for c in self.containers]


def describe_task_definition(ecs: Any, arn: str) -> TaskDefinitionInfo:
    resp = ecs.describe_task_definition(taskDefinition=arn)
    return TaskDefinitionInfo.from_response(resp["taskDefinition"])


# --- the RunTask request ----------------------------------------------------------------------


@dataclass
class Adjustments:
    """What the user changes on the command line. Nothing here: exactly the scheduled run."""

    task_definition_arn: str | None = None
    count: int | None = None
    container: str | None = None
    command: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def touches_container(self) -> bool:
        return self.command is not None or bool(self.env)


def target_container(target: EcsTarget, adj: Adjustments, td: TaskDefinitionInfo | None) -> str | None:
    """The container that --command and --env apply to: --container, else the first container override,
    else the task definition's first essential container."""
    if adj.container:
        return adj.container
    if target.container_overrides:
        return target.container_overrides[0].name
    return td.main_container() if td else None


def build_request(target: EcsTarget, *, rule: str, adj: Adjustments | None = None,
                  container: str | None = None) -> dict[str, Any]:
    """The RunTask request EventBridge sends for `target` (the same parameters, camelCase), with the
    user's adjustments applied to `container`. No clientToken: the caller adds one per attempt."""
    adj = adj or Adjustments()
    req: dict[str, Any] = {
        "cluster": target.cluster_arn,
        "taskDefinition": adj.task_definition_arn or target.task_definition_arn,
        "count": adj.count if adj.count is not None else target.task_count,
    }
    if target.capacity_provider_strategy:
        req["capacityProviderStrategy"] = [
            {"capacityProvider": c.capacity_provider, "base": c.base, "weight": c.weight}
            for c in target.capacity_provider_strategy
        ]
    elif target.launch_type:
        req["launchType"] = target.launch_type
    if target.platform_version:
        req["platformVersion"] = target.platform_version
    if target.group:
        req["group"] = target.group
    if target.network:
        vpc: dict[str, Any] = {"subnets": list(target.network.subnets)}
        if target.network.security_groups:
            vpc["securityGroups"] = list(target.network.security_groups)
        vpc["assignPublicIp"] = target.network.assign_public_ip
        req["networkConfiguration"] = {"awsvpcConfiguration": vpc}
    if target.placement_constraints:
        req["placementConstraints"] = [
            {"type": c.type, **({"expression": c.expression} if c.expression else {})}
            for c in target.placement_constraints
        ]
    if target.placement_strategy:
        req["placementStrategy"] = [
            {"type": s.type, **({"field": s.field} if s.field else {})} for s in target.placement_strategy
        ]
    ov = apply_adjustments(overrides(target), adj, container)
    if target.dedupe:
        ov = with_dedupe_env(ov, rule)
    if ov:
        req["overrides"] = ov
    if target.propagate_tags:
        req["propagateTags"] = target.propagate_tags
    if target.tags:
        req["tags"] = [{"key": k, "value": v} for k, v in target.tags]
    req["enableECSManagedTags"] = target.enable_ecs_managed_tags
    req["enableExecuteCommand"] = target.enable_execute_command
    req["startedBy"] = started_by(rule)
    return req


def with_dedupe_env(ov: dict[str, Any], rule: str, now: datetime | None = None) -> dict[str, Any]:
    """What EventBridge passes a `dedupe: true` rule's containers, for `ecsched lock` inside the task. A
    manual run gets its own "scheduled time", so lock never skips it as a duplicate delivery."""
    stamp = (now or datetime.now(UTC)).strftime("manual-%Y-%m-%dT%H:%M:%SZ")
    for co in ov.get("containerOverrides", []):
        env = {e["name"]: e["value"] for e in co.get("environment") or []}
        env.setdefault("ECSCHED_RULE", rule)
        env.setdefault("ECSCHED_SCHEDULED_TIME", stamp)
        co["environment"] = [{"name": k, "value": v} for k, v in env.items()]
    return ov


def apply_adjustments(ov: dict[str, Any], adj: Adjustments, container: str | None) -> dict[str, Any]:
    """--command and --env on top of the scheduled overrides (a new dict; `ov` is untouched)."""
    ov = copy.deepcopy(ov)
    if not adj.touches_container:
        return ov
    if not container:
        raise NotStarted("cannot tell which container --command/--env are for: pass --container NAME")
    cos: list[dict[str, Any]] = ov.setdefault("containerOverrides", [])
    item = next((c for c in cos if c.get("name") == container), None)
    if item is None:
        item = {"name": container}
        cos.append(item)
    if adj.command is not None:
        item["command"] = list(adj.command)
    if adj.env:
        env = {e["name"]: e["value"] for e in item.get("environment") or []}
        env.update(adj.env)
        item["environment"] = [{"name": k, "value": v} for k, v in env.items()]
    return ov


# --- exit codes -------------------------------------------------------------------------------


def exit_code_of(task: dict[str, Any], essential: list[str] | None) -> int:
    """`docker run`'s contract for one stopped task.

    The first non-zero exit code among the essential containers (task-definition order); 125 when the
    task failed to start or an essential container has no exit code; else 0. `essential` None: all are.
    """
    if task.get("stopCode") == "TaskFailedToStart":
        return EXIT_NOT_STARTED
    by_name = {str(c.get("name")): c for c in task.get("containers") or []}
    names = [n for n in essential if n in by_name] if essential is not None else list(by_name)
    if not names:
        return EXIT_NOT_STARTED
    codes = [by_name[n].get("exitCode") for n in names]
    for code in codes:
        if code is not None and int(code) != 0:
            code = int(code)
            # A process exit status is 8 bits: keep 1-255, and never let 256 turn into success.
            return code if 0 < code < 256 else 1
    if any(code is None for code in codes):
        return EXIT_NOT_STARTED
    return 0


# --- logs -------------------------------------------------------------------------------------


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
    broken: bool = False


def log_streams(task_arn: str, td: TaskDefinitionInfo, default_region: str) -> list[LogStream]:
    """The awslogs streams of a task's essential containers: `prefix/container/task-id`."""
    out = []
    for c in td.essential:
        if c.log is None or not c.log.prefix:
            continue  # no awslogs, or no prefix (EC2): the stream name is not predictable
        out.append(LogStream(task_arn=task_arn, container=c.name, group=c.log.group,
                             region=c.log.region or default_region,
                             stream=f"{c.log.prefix}/{c.name}/{task_id(task_arn)}"))
    return out


class LogFollower:
    """Tails several CloudWatch Logs streams with GetLogEvents (startFromHead, nextForwardToken)."""

    def __init__(self, aws: Aws, streams: list[LogStream], write: Callable[[str], None],
                 warn: Callable[[str], None]) -> None:
        self.aws = aws
        self.streams = streams
        self.write = write
        self.warn = warn
        tasks = {s.task_arn for s in streams}
        for s in streams:
            if len(streams) > 1:
                s.label = s.container if len(tasks) == 1 else f"{s.container}/{task_id(s.task_arn)[:8]}"

    def poll(self) -> int:
        """Print whatever arrived since the last call; returns the number of lines printed."""
        return sum(self._poll_one(s) for s in self.streams if not s.broken)

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
                s.broken = True
                self.warn(f"cannot read logs {s.group} {s.stream}: {e}")
                return printed
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


# --- the result -------------------------------------------------------------------------------


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
    stop_requested: bool = False

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
            "exitCode": exit_code_of(t, self.essential) if t.get("lastStatus") == "STOPPED" else None,
            "stopCode": t.get("stopCode"),
            "stoppedReason": t.get("stoppedReason") or None,
            "createdAt": _iso(t.get("createdAt")),
            "startedAt": _iso(started),
            "stoppedAt": _iso(stopped),
            "duration": duration,
            "containers": containers,
            "logStreams": [f"{s.group}:{s.stream}" for s in self.streams if s.task_arn == arn],
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


# --- signals ----------------------------------------------------------------------------------


class Signals:
    """SIGINT/SIGTERM become flags the poll loop reads, so a signal never lands inside an AWS call."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.handled = 0  # how many of `received` the loop has acted on

    @property
    def pending(self) -> bool:
        return len(self.received) > self.handled

    def _handler(self, signum: int, frame: Any) -> None:
        self.received.append(signum)

    @contextmanager
    def installed(self) -> Iterator[Signals]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self._handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, h in previous.items():
                signal.signal(s, h)


# --- the runner -------------------------------------------------------------------------------


@dataclass
class RunOptions:
    wait: bool = True
    logs: bool = True
    timeout: float | None = None
    stop_on_timeout: bool = False
    json_output: bool = False
    poll: float = DEFAULT_POLL_INTERVAL


class Runner:
    """Starts the task and follows it. Talks to the user only through the Context."""

    def __init__(self, ctx: Context, aws: Aws, region: str, opts: RunOptions,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.ctx = ctx
        self.aws = aws
        self.region = region
        self.opts = opts
        self.clock = clock
        self.sleep = sleep
        self.signals = Signals()
        self._status_line = ""

    @property
    def ecs(self) -> Any:
        return self.aws.client("ecs", self.region)

    # output -----------------------------------------------------------------------------------
    def _log_line(self, line: str) -> None:
        self.ctx.progress_done()
        stream = self.ctx.stderr if self.opts.json_output else self.ctx.stdout
        print(line, file=stream, flush=True)

    def _status(self, text: str) -> None:
        self._status_line = text
        self.ctx.progress(text)

    def _note(self, text: str) -> None:
        self.ctx.progress_done()
        self.ctx.info(text)
        if self._status_line:
            self.ctx.progress(self._status_line)

    # the run ----------------------------------------------------------------------------------
    def run(self, rule: str, request: dict[str, Any], td: TaskDefinitionInfo | None) -> RunResult:
        result = RunResult(rule=rule, request=request, timeout=self.opts.timeout)
        if not self.opts.wait:
            self._start(result)
            result.waited = False
            result.exit_code = EXIT_NOT_STARTED if result.failures else 0
            return result
        with self.signals.installed():
            self._start(result)
            if not result.task_arns:
                result.exit_code = EXIT_NOT_STARTED
                return result
            self._follow(result, td)
        return result

    def _start(self, result: RunResult) -> None:
        req = dict(result.request, clientToken=str(uuid.uuid4()))
        try:
            resp = self.ecs.run_task(**req)
        except Exception as e:
            from ecsched.errors import describe_aws_exception

            raise NotStarted(describe_aws_exception(e) or f"RunTask failed: {e}") from e
        result.failures = [dict(f) for f in resp.get("failures") or []]
        for t in resp.get("tasks") or []:
            result.task_arns.append(str(t["taskArn"]))
            result.tasks[str(t["taskArn"])] = t
        for f in result.failures:
            self.ctx.error("RunTask failure: " + ", ".join(
                f"{k}: {f[k]}" for k in ("arn", "reason", "detail") if f.get(k)))
        if not result.task_arns and not result.failures:
            self.ctx.error("RunTask started no task and reported no failure")
            result.failures.append({"reason": "RunTask started no task"})

    def _follow(self, result: RunResult, td: TaskDefinitionInfo | None) -> None:
        arns_ = result.task_arns
        for arn in arns_:
            self._note(f"ecsched: started {arn} ({result.tasks[arn].get('lastStatus') or '?'})")
        # The task runs the exact revision; a bare family was described as "latest" before the run.
        actual = str(result.tasks[arns_[0]].get("taskDefinitionArn") or "")
        if actual and (td is None or td.arn != actual):
            try:
                td = describe_task_definition(self.ecs, actual)
            except Exception as e:
                self.ctx.warn(f"cannot describe {actual} ({e}); "
                              "treating every container as essential, no logs")
                td = None  # the earlier revision's containers and logs are not this task's
        result.essential = [c.name for c in td.essential] if td else None
        follower: LogFollower | None = None
        if td is not None:
            result.streams = [s for a in arns_ for s in log_streams(a, td, self.region)]
            if self.opts.logs and result.streams:
                follower = LogFollower(self.aws, result.streams, self._log_line, self.ctx.warn)

        start = self.clock()
        deadline = start + self.opts.timeout if self.opts.timeout else None
        next_describe = start
        next_logs = start
        # GetLogEvents is limited per account and region: many streams are read less often.
        n_streams = len(follower.streams) if follower else 0
        log_every = min(self.opts.poll, max(LOG_POLL_INTERVAL, 0.25 * n_streams))
        missing: dict[str, int] = {}
        stopping = False  # StopTask sent; waiting for STOPPED
        while True:
            if self.signals.pending:
                if stopping:
                    result.signal_name = result.signal_name or signal.Signals(self.signals.received[-1]).name
                    self._note("ecsched: signal received again: not waiting for the task to stop")
                    break
                self.signals.handled = len(self.signals.received)
                name = signal.Signals(self.signals.received[0]).name
                result.signal_name = name
                self._stop(result, f"{name} received")
                stopping = True
                next_describe = self.clock()
            now = self.clock()
            if deadline is not None and now >= deadline and not result.timed_out:
                result.timed_out = True
                if not self.opts.stop_on_timeout:
                    break
                self._stop(result, f"--timeout {format_duration(self.opts.timeout or 0)} reached")
                stopping = True
                next_describe = now
            if now >= next_describe:
                try:
                    self._describe(result, missing)
                except EcschedError:
                    raise
                except Exception as e:
                    raise EcschedError(f"lost track of {', '.join(arns_)}: DescribeTasks failed: {e}") from e
                next_describe = now + self.opts.poll
                if all(result.tasks.get(a, {}).get("lastStatus") == "STOPPED" for a in arns_):
                    break
            if follower is not None and now >= next_logs:
                follower.poll()
                next_logs = self.clock() + log_every
            self._status(self._status_text(result, now - start, stopping))
            wake = min(next_describe, next_logs if follower else next_describe)
            if deadline is not None and not result.timed_out:
                wake = min(wake, deadline)
            self._sleep_until(wake)
        if follower is not None:
            follower.poll()  # whatever arrived between the last round and STOPPED
        self.ctx.progress_done()
        self._status_line = ""
        result.exit_code = self._exit_code(result)

    def _sleep_until(self, wake: float) -> None:
        # One short nap per round: a signal handler only sets a flag, and the status line's clock ticks.
        left = wake - self.clock()
        if left > 0 and not self.signals.pending:
            self.sleep(min(left, 0.2))

    def _describe(self, result: RunResult, missing: dict[str, int]) -> None:
        resp = self.ecs.describe_tasks(cluster=result.request["cluster"], tasks=result.task_arns)
        seen = set()
        for t in resp.get("tasks") or []:
            arn = str(t["taskArn"])
            seen.add(arn)
            before = result.tasks.get(arn, {}).get("lastStatus")
            result.tasks[arn] = t
            # Off a terminal each change is a line (the summary reports STOPPED); on one, the status line.
            now_status = t.get("lastStatus")
            if now_status != before and now_status != "STOPPED" and not self.ctx.stderr.isatty():
                self._note(f"ecsched: task {task_id(arn)}: {now_status}")
        for arn in result.task_arns:
            if arn in seen:
                missing.pop(arn, None)
                continue
            missing[arn] = missing.get(arn, 0) + 1
            if missing[arn] >= MISSING_LIMIT:
                raise EcschedError(f"task {arn} is no longer known to ECS (DescribeTasks does not return it)")

    def _stop(self, result: RunResult, why: str) -> None:
        reason = stop_reason(why)
        for arn in result.task_arns:
            if result.tasks.get(arn, {}).get("lastStatus") == "STOPPED":
                continue
            self._note(f"ecsched: stopping {arn}: {why}")
            try:
                self.ecs.stop_task(cluster=result.request["cluster"], task=arn, reason=reason)
            except Exception as e:
                self.ctx.error(f"StopTask {arn} failed: {e}")
        result.stop_requested = True

    def _status_text(self, result: RunResult, elapsed: float, stopping: bool) -> str:
        statuses = [str(result.tasks.get(a, {}).get("lastStatus") or "?") for a in result.task_arns]
        if len(statuses) == 1:
            what = f"{task_id(result.task_arns[0])[:12]} {statuses[0]}"
        else:
            counts: dict[str, int] = {}
            for s in statuses:
                counts[s] = counts.get(s, 0) + 1
            what = f"{len(statuses)} tasks: " + ", ".join(f"{n} {s}" for s, n in counts.items())
        extra = " (stopping)" if stopping else ""
        return f"{result.rule}: {what}{extra}  {format_duration(elapsed)}"

    def _exit_code(self, result: RunResult) -> int:
        if result.signal_name:
            return 128 + int(signal.Signals[result.signal_name])
        if result.timed_out:
            return EXIT_TIMEOUT
        code = 0
        for arn in result.task_arns:
            c = exit_code_of(result.tasks.get(arn, {}), result.essential)
            if c and not code:
                code = c
        if result.failures:
            return EXIT_NOT_STARTED
        return code


# --- text output --------------------------------------------------------------------------------


def summary_lines(result: RunResult) -> list[str]:
    """The human end-of-run report (stderr): per task, status, stop code and reason, exit codes."""
    lines = []
    for arn in result.task_arns:
        t = result.task_json(arn)
        head = f"task {task_id(arn)}: {t['lastStatus']}"
        if t["duration"] is not None:
            head += f" after {format_duration(t['duration'])}"
        lines.append(head)
        if t["stopCode"] or t["stoppedReason"]:
            lines.append(f"  stopCode: {t['stopCode'] or '-'}; stoppedReason: {t['stoppedReason'] or '-'}")
        for c in t["containers"] if t["lastStatus"] == "STOPPED" else []:
            code = "no exit code" if c["exitCode"] is None else f"exit code {c['exitCode']}"
            reason = f" ({c['reason']})" if c.get("reason") else ""
            ess = "" if c["essential"] else " (not essential)"
            lines.append(f"  {c['name']}{ess}: {code}{reason}")
    if result.timed_out:
        after = ""
        if result.timeout:
            limit = result.timeout
            after = f" after {limit:g}s" if limit < 60 else f" after {format_duration(limit)}"
        lines.append(f"timed out{after}" + ("; stop requested" if result.stop_requested else
                                            "; the task keeps running (--stop-on-timeout would stop it)"))
    if result.signal_name:
        lines.append(f"interrupted by {result.signal_name}; stop requested")
    return lines


def request_json(request: dict[str, Any]) -> str:
    return json.dumps(request, indent=2, ensure_ascii=False)
