"""The run: RunTask, then the DescribeTasks poll loop until every task stopped, with log streaming,
signals (StopTask), --timeout, and a bounded ride through AWS outages (--lost-timeout).

The loop never lets go of a task silently: a DescribeTasks call that fails is retried with backoff until
--lost-timeout, and then the run ends with 125 and the task's ARN (a container's own exit 1 stays its
own). A failed StopTask is retried and reported as it is, and the wait for a stop is bounded.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecsched.arns import task_id
from ecsched.durations import format_duration
from ecsched.errors import EcschedError
from ecsched.run.codes import EXIT_NOT_STARTED
from ecsched.run.logs import LogFollower, log_streams
from ecsched.run.output import Output
from ecsched.run.result import RunResult
from ecsched.run.retry import backoff, explain, is_transient
from ecsched.run.signals import Signals
from ecsched.run.start import start_tasks
from ecsched.run.taskdef import TaskDefinitionInfo, describe_task_definition
from ecsched.run.text import status_text

if TYPE_CHECKING:
    from ecsched.aws import Aws

DEFAULT_POLL_INTERVAL = 6.0  # seconds between DescribeTasks calls
DEFAULT_LOST_TIMEOUT = 600.0  # DescribeTasks may fail this long before ecsched gives up on the task
DEFAULT_STOP_WAIT = 180.0  # after StopTask: Fargate's stopTimeout is at most 120 s, plus deprovisioning
LOG_POLL_INTERVAL = 2.0  # at most this long between GetLogEvents rounds
MISSING_LIMIT = 3  # consecutive DescribeTasks answers without our task before we give up


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


def stop_reason(why: str) -> str:
    """StopTask reason (≤255 characters): who stopped the task and why, as the console shows it."""
    import getpass

    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry and no $USER, as in some containers
        user = "unknown"
    return f"Stopped by ecsched run for {user}: {why}"[:255]


@dataclass
class RunOptions:
    wait: bool = True
    logs: bool = True
    timeout: float | None = None
    stop_on_timeout: bool = False
    poll: float = DEFAULT_POLL_INTERVAL
    lost_timeout: float = DEFAULT_LOST_TIMEOUT
    stop_wait: float = DEFAULT_STOP_WAIT

    @property
    def retry_base(self) -> float:
        """Seconds before the first retry of a failed RunTask or log read (then doubling)."""
        return min(LOG_POLL_INTERVAL, self.poll)


@dataclass
class _Loop:
    """The poll loop's state between rounds."""

    start: float
    next_describe: float
    next_logs: float
    stopping: bool = False
    stop_deadline: float | None = None
    unanswered_since: float | None = None  # DescribeTasks failing since
    failures: int = 0  # DescribeTasks failures in a row


class Runner:
    """Starts the task and follows it. Talks to the user only through `out`."""

    def __init__(self, aws: Aws, region: str, opts: RunOptions, out: Output,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.aws = aws
        self.region = region
        self.opts = opts
        self.out = out
        self.clock = clock
        self.sleep = sleep
        self.signals = Signals()
        self._stop_reason = ""
        self._stop_retryable: dict[str, bool] = {}  # task ARN -> its failed StopTask is worth another try

    @property
    def ecs(self) -> Any:
        return self.aws.client("ecs", self.region)

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
            self.out.start()
            try:
                self._follow(result, td)
            finally:
                self.out.stop()
        result.exit_code = result.final_exit_code()
        return result

    def _start(self, result: RunResult) -> None:
        started = start_tasks(self.ecs, result.request, self.out, sleep=self.sleep, retry_base=self.opts.retry_base)
        result.failures = started.failures
        result.adopted = started.found_by_started_by
        for t in started.tasks:
            result.task_arns.append(str(t["taskArn"]))
            result.tasks[str(t["taskArn"])] = t
        for f in result.failures:
            self.out.error("RunTask failure: " + ", ".join(
                f"{k}: {f[k]}" for k in ("arn", "reason", "detail") if f.get(k)))
        if not result.task_arns and not result.failures:
            self.out.error("RunTask started no task and reported no failure")
            result.failures.append({"reason": "RunTask started no task"})

    def _task_definition(self, result: RunResult, td: TaskDefinitionInfo | None) -> TaskDefinitionInfo | None:
        """The revision the task runs; a bare family was described as "latest" before the run."""
        actual = str(result.tasks[result.task_arns[0]].get("taskDefinitionArn") or "")
        if actual and (td is None or td.arn != actual):
            try:
                td = describe_task_definition(self.ecs, actual)
            except Exception as e:
                self.out.warn(f"cannot describe {actual} ({explain(e)}); "
                              "treating every container as essential, no logs")
                td = None  # the earlier revision's containers and logs are not this task's
        return td

    def _follow(self, result: RunResult, td: TaskDefinitionInfo | None) -> None:
        for arn in result.task_arns:
            self.out.note(f"ecsched: started {arn} ({result.status(arn) or '?'})")
        td = self._task_definition(result, td)
        result.essential = [c.name for c in td.essential] if td else None
        follower: LogFollower | None = None
        if td is not None:
            result.streams = [s for a in result.task_arns for s in log_streams(a, td, self.region)]
            if self.opts.logs and result.streams:
                follower = LogFollower(self.aws, result.streams, self.out.log, self.out.warn, note=self.out.note,
                                       clock=self.clock, sleep=self.sleep, retry_base=self.opts.retry_base)
        now = self.clock()
        loop = _Loop(start=now, next_describe=now, next_logs=now)
        deadline = now + self.opts.timeout if self.opts.timeout else None
        # GetLogEvents is limited per account and region: many streams are read less often.
        log_every = min(self.opts.poll, max(LOG_POLL_INTERVAL, 0.25 * len(result.streams)))
        missing: dict[str, int] = {}
        while True:
            if self.signals.pending:
                if loop.stopping:
                    self.signals.take()
                    result.gave_up_stopping = True
                    self.out.note("ecsched: signal received again: not waiting for the task to stop")
                    break
                result.signal_name = self.signals.take()
                if not self._begin_stop(result, loop, f"{result.signal_name} received"):
                    break
            now = self.clock()
            if deadline is not None and now >= deadline and not result.timed_out:
                result.timed_out = True
                if not self.opts.stop_on_timeout:
                    break
                if not self._begin_stop(result, loop, f"--timeout {format_duration(self.opts.timeout or 0)} reached"):
                    break
            if loop.stop_deadline is not None and now >= loop.stop_deadline:
                result.stop_waited = self.opts.stop_wait
                break
            if now >= loop.next_describe and (self._poll_tasks(result, loop, missing, now) or result.lost):
                break
            if follower is not None and now >= loop.next_logs:
                follower.poll()
                loop.next_logs = self.clock() + log_every
            unreachable = None if loop.unanswered_since is None else now - loop.unanswered_since
            self.out.status(status_text(result, now - loop.start, stopping=loop.stopping, unreachable=unreachable))
            wake = min(loop.next_describe, loop.next_logs if follower else loop.next_describe)
            if deadline is not None and not result.timed_out:
                wake = min(wake, deadline)
            self._sleep_until(wake)
        if follower is not None:
            follower.drain()  # whatever arrived between the last round and STOPPED

    def _sleep_until(self, wake: float) -> None:
        # One short nap per round: a signal handler only sets a flag, and the status line's clock ticks.
        left = wake - self.clock()
        if left > 0 and not self.signals.pending:
            self.sleep(min(left, 0.2))

    # --- DescribeTasks, riding out failures -------------------------------------------------------
    def _poll_tasks(self, result: RunResult, loop: _Loop, missing: dict[str, int], now: float) -> bool:
        """One DescribeTasks round; True when every task has stopped."""
        try:
            self._describe(result, missing)
        except Exception as e:
            if not is_transient(e):
                if not type(e).__module__.startswith(("botocore", "boto3")):
                    raise
                result.lost = explain(e)
                return False
            self._unanswered(result, loop, e, now)
            return False
        if loop.unanswered_since is not None:
            self.out.note(f"ecsched: DescribeTasks answers again, after "
                          f"{format_duration(now - loop.unanswered_since)} and {loop.failures} failed "
                          f"call{'s' if loop.failures != 1 else ''}")
        loop.unanswered_since, loop.failures = None, 0
        loop.next_describe = now + self.opts.poll
        if loop.stopping:
            self._retry_stops(result)
        return result.all_stopped

    def _unanswered(self, result: RunResult, loop: _Loop, e: Exception, now: float) -> None:
        loop.failures += 1
        if loop.unanswered_since is None:
            loop.unanswered_since = now
            self.out.warn(f"{explain(e)}; still following the task, for up to "
                          f"{format_duration(self.opts.lost_timeout)} (--lost-timeout)")
        down = now - loop.unanswered_since
        if down >= self.opts.lost_timeout:
            result.lost = (f"DescribeTasks failed for {format_duration(down)} ({loop.failures} calls; "
                           f"last: {explain(e)})")
            return
        wait = backoff(loop.failures, self.opts.poll)
        loop.next_describe = now + min(wait, max(0.0, loop.unanswered_since + self.opts.lost_timeout - now))

    def _describe(self, result: RunResult, missing: dict[str, int]) -> None:
        resp = self.ecs.describe_tasks(cluster=result.request["cluster"], tasks=result.task_arns)
        seen = set()
        for t in resp.get("tasks") or []:
            arn = str(t["taskArn"])
            seen.add(arn)
            before = result.status(arn)
            result.tasks[arn] = t
            # Without a status line each change is a line (the summary reports STOPPED).
            now_status = t.get("lastStatus")
            if now_status != before and now_status != "STOPPED" and not self.out.live:
                self.out.note(f"ecsched: task {task_id(arn)}: {now_status}")
        for arn in result.task_arns:
            if arn in seen:
                missing.pop(arn, None)
                continue
            missing[arn] = missing.get(arn, 0) + 1
            if missing[arn] >= MISSING_LIMIT:
                result.lost = f"task {arn} is no longer known to ECS (DescribeTasks does not return it)"

    # --- StopTask ------------------------------------------------------------------------------------
    def _begin_stop(self, result: RunResult, loop: _Loop, why: str) -> bool:
        """StopTask for every task not stopped yet; False when there is nothing to wait for (each StopTask
        was refused for good)."""
        self._stop_reason = stop_reason(why)
        pending = [a for a in result.task_arns if result.status(a) != "STOPPED"]
        for arn in pending:
            self.out.note(f"ecsched: stopping {arn}: {why}")
            self._stop_one(result, arn)
        loop.stopping = True
        loop.stop_deadline = self.clock() + self.opts.stop_wait
        loop.next_describe = self.clock()
        return not pending or not all(a in result.stop_errors and not self._stop_retryable.get(a)
                                      for a in pending)

    def _stop_one(self, result: RunResult, arn: str) -> None:
        try:
            self.ecs.stop_task(cluster=result.request["cluster"], task=arn, reason=self._stop_reason)
        except Exception as e:
            if not type(e).__module__.startswith(("botocore", "boto3")):
                raise
            retryable = is_transient(e)
            self._stop_retryable[arn] = retryable
            first = arn not in result.stop_errors
            result.stop_errors[arn] = explain(e)
            if first:
                self.out.error(f"cannot stop {arn}: {explain(e)}"
                               + ("; trying again (a second signal leaves it running)" if retryable
                                  else "; the task keeps running"))
            return
        self._stop_retryable.pop(arn, None)
        result.stop_errors.pop(arn, None)
        result.stop_requested = True

    def _retry_stops(self, result: RunResult) -> None:
        """After a DescribeTasks answer: a task whose desired status is STOPPED is being stopped (a StopTask
        whose answer was lost may have worked); StopTask again for the others whose stop failed."""
        for arn in list(result.stop_errors):
            if result.tasks.get(arn, {}).get("desiredStatus") == "STOPPED" or result.status(arn) == "STOPPED":
                result.stop_errors.pop(arn)
                self._stop_retryable.pop(arn, None)
                result.stop_requested = True
            elif self._stop_retryable.get(arn):
                self._stop_one(result, arn)
