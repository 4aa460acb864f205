"""`ecsched run --rule JOB`: send the job now, and with --wait follow it as far as it can be followed.

What can be known, from sqsjkr's source (worker.go, job.go, lock/dynamodb_lock.go):

- with the job's `lock_id` and the lock table: the lock item `{Id: lock_id, Type: "lock"}` holds our
  EventId while the command runs, and is deleted when it ends. That shows start and end, not the result;
- with the worker's log group: `CMD event_id:<id> command:...` (info) when the worker takes the job, and
  `[event:<id>] failed|errored to invoke command, reason: ...` (error) when it fails: `exit status N`, a
  signal, `over life time` (dropped before running) or `Already '<lock>' is locked` (abort_if_locked).
  It is written *after* the lock is deleted, so we wait `settle` seconds for it;
- success is logged only at debug level. "No failure line" after the lock went away is the only
  evidence of success, and only as good as the log shipping (hence exit 125 without a log group);
- without a lock_id the end of a job leaves no trace at info level: only a failure can be seen.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from ecsched.errors import EcschedError
from ecsched.sqsjkr.job import Job, to_input
from ecsched.sqsjkr.locks import get_lock

EXIT_TIMEOUT = 124  # as `ecsched run --timeout`
EXIT_UNKNOWN = 125  # the job ended (or may have) but its outcome cannot be learned
_SIGNALS = {"hangup": 1, "interrupt": 2, "quit": 3, "aborted": 6, "killed": 9, "segmentation fault": 11,
            "terminated": 15}


def manual_event_id(rule: str, now: float | None = None, nonce: str | None = None) -> str:
    """`<rule>:manual:<UTC time>-<random>`: unique per send, and readable in the lock table and the log."""
    stamp = datetime.fromtimestamp(time.time() if now is None else now, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{rule}:manual:{stamp}-{nonce or uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Sent:
    message_id: str
    event_id: str
    body: str
    sent_at: float  # epoch seconds, just before SendMessage


def send_job(sqs: Any, queue_url: str, job: Job, *, rule: str, message_group_id: str | None = None,
             event_id: str | None = None, clock: Callable[[], float] = time.time) -> Sent:
    """SendMessage of the job, as the rule would send it but with a unique event_id."""
    eid = event_id or manual_event_id(rule, clock())
    body = to_input(replace(job, event_id=eid))
    params: dict[str, Any] = {"QueueUrl": queue_url, "MessageBody": body}
    if queue_url.endswith(".fifo"):
        if not message_group_id:
            raise EcschedError(f"rule {rule}: the queue is FIFO; set messageGroupId on the rule to run it")
        # Our own deduplication id: the event_id is unique, whatever the queue's content-based setting.
        params.update(MessageGroupId=message_group_id, MessageDeduplicationId=eid[:128])
    sent_at = clock()
    resp = sqs.send_message(**params)
    return Sent(message_id=resp["MessageId"], event_id=eid, body=body, sent_at=sent_at)


# --- following -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowOptions:
    event_id: str
    since: float  # epoch seconds: log lines before this are not ours
    lock_table: str | None = None
    lock_id: str | None = None  # the job's lock_id; without it the lock table shows nothing
    log_group: str | None = None
    timeout: float = 3600.0
    poll: float = 2.0
    settle: float = 15.0  # after the lock is gone, how long a failure line may take to arrive


Status = Literal["failed", "finished", "timeout", "sent"]


@dataclass
class Outcome:
    status: Status
    exit_code: int  # what `ecsched run` exits with
    reason: str
    seen: list[str] = field(default_factory=list)  # what was observed, in order
    unknown: str | None = None  # what could not be known, said plainly

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "exitCode": self.exit_code, "reason": self.reason, "seen": self.seen,
                "unknown": self.unknown}


def failure_of(line: str, event_id: str) -> tuple[int, str] | None:
    """(exit code, reason) from sqsjkr's failure line for `event_id`, or None."""
    m = re.search(rf"\[event:{re.escape(event_id)}\] (failed|errored) to invoke command, reason: (.*?)(?:, job: |$)",
                  line)
    if not m:
        return None
    reason = m.group(2).strip()
    if st := re.fullmatch(r"exit status (\d+)", reason):
        return int(st.group(1)), reason
    if sig := re.fullmatch(r"signal: (.+)", reason):
        return 128 + _SIGNALS.get(sig.group(1), 0), reason
    if reason == "over life time":
        return 1, "not run: over its life_time when the worker received it"
    if reason.startswith("Already"):
        return 1, f"not run (abort_if_locked): {reason.split(', error_code')[0]}"
    return 1, reason


def is_start(line: str, event_id: str) -> bool:
    return f"CMD event_id:{event_id} command:" in line


class LogTail:
    """New lines of the worker's log group that mention the event (FilterLogEvents on a quoted phrase,
    then matched again here: moto, and CloudWatch with odd characters, may return more)."""

    def __init__(self, logs: Any, group: str, event_id: str, since: float) -> None:
        self.logs, self.group, self.event_id = logs, group, event_id
        self.start_ms = int(since * 1000) - 5000  # clock skew between us and the worker's host
        self._seen: set[str] = set()

    def lines(self) -> list[str]:
        out: list[tuple[int, str]] = []
        kwargs: dict[str, Any] = {"logGroupName": self.group, "startTime": self.start_ms,
                                  "filterPattern": f'"{self.event_id}"'}
        while True:
            page = self.logs.filter_log_events(**kwargs)
            for ev in page.get("events", []):
                ident = ev.get("eventId") or f"{ev.get('logStreamName')}/{ev.get('timestamp')}/{ev.get('message')}"
                if ident in self._seen or self.event_id not in ev.get("message", ""):
                    continue
                self._seen.add(ident)
                out.append((int(ev.get("timestamp", 0)), ev["message"]))
            token = page.get("nextToken")
            if not token or token == kwargs.get("nextToken"):
                break
            kwargs["nextToken"] = token
        return [m for _, m in sorted(out, key=lambda x: x[0])]


def follow(opts: FollowOptions, *, ddb: Any = None, logs: Any = None, on_event: Callable[[str], None] | None = None,
           clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Follow one sent job until its lock comes and goes, a failure line arrives, or the timeout."""
    seen: list[str] = []

    def note(text: str) -> None:
        seen.append(text)
        if on_event:
            on_event(text)

    by_lock = bool(opts.lock_table and opts.lock_id and ddb is not None)
    tail = LogTail(logs, opts.log_group, opts.event_id, opts.since) if opts.log_group and logs is not None else None
    if not by_lock and tail is None:
        why = ("the job has no lock_id" if opts.lock_table else "no sqsjkr lock table is configured") + \
              " and no worker log group is configured"
        return Outcome("sent", 0, "sent; nothing to follow", seen,
                       f"{why}: whether and how the job ran cannot be known from here")
    deadline = clock() + opts.timeout
    started = holding = False
    gone_at: float | None = None
    absent_since: float | None = None
    waiting_on: str | None = None
    while True:
        for line in tail.lines() if tail else []:
            failed = failure_of(line, opts.event_id)
            if failed:
                note(line.strip())
                return Outcome("failed", failed[0], failed[1], seen)
            if is_start(line, opts.event_id) and not started:
                started = True
                note("the worker took the job (its CMD line)")
        if by_lock and gone_at is None:
            item = get_lock(ddb, str(opts.lock_table), str(opts.lock_id))
            if item is not None and item.event_id == opts.event_id:
                if not holding:
                    holding = True
                    note(f"running: lock {opts.lock_id} is held by this event")
            elif item is not None:
                if item.event_id != waiting_on:
                    waiting_on = item.event_id
                    note(f"lock {opts.lock_id} is held by event {item.event_id}: the job waits (or aborts) behind it")
            elif holding:
                gone_at = clock()
                note(f"lock {opts.lock_id} released: the command ended")
            elif started:
                # The CMD line comes before the lock is taken; a lock never seen for `settle` seconds
                # after it means a job shorter than our poll: it came and went between two looks.
                absent_since = clock() if absent_since is None else absent_since
                if clock() - absent_since >= opts.settle:
                    gone_at = absent_since
                    note(f"lock {opts.lock_id} not seen since the worker took the job: the command ended")
        if gone_at is not None:
            if tail is None:
                return Outcome("finished", EXIT_UNKNOWN, "the command ended (its lock was released)", seen,
                               "its exit status is unknown: sqsjkr reports it only in the worker's log "
                               "(configure the worker's log group)")
            if clock() - gone_at >= opts.settle:
                return Outcome("finished", 0, "the command ended and no failure line was logged", seen,
                               "sqsjkr logs success only at debug level: success is inferred from the absence "
                               f"of a failure line within {opts.settle:g}s of the lock's release")
        if clock() >= deadline:
            return Outcome("timeout", EXIT_TIMEOUT, _timeout_reason(started, holding, waiting_on, by_lock), seen,
                           None if by_lock else "without a lock_id and the lock table, a job's end leaves no trace "
                                                "at info level: only a failure line can end the wait")
        sleep(opts.poll)


def _timeout_reason(started: bool, holding: bool, waiting_on: str | None, by_lock: bool) -> str:
    if holding:
        return "timed out while the job was still running (its lock is held)"
    if waiting_on:
        return f"timed out while the job waited for a lock held by event {waiting_on} (a leftover lock? see " \
               "`ecsched locks --sqsjkr`)"
    if started:
        return "timed out after the worker took the job; no failure line seen"
    return "timed out before any worker took the job (is a worker running on this queue?)" if by_lock else \
        "timed out with no line from the worker about this event"
