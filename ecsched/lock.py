"""A DynamoDB lease lock that runs a child process while holding the lease, and never strands a batch.

One item per lock key: ``{key, kind: "lease", owner, token, acquired_at, expires_at, scheduled_time?}``.

- Acquire is a conditional put, ``attribute_not_exists(key) OR expires_at < :now``: a lease whose holder
  died without cleanup is taken over once it has expired. Expiry is decided here, in the condition, and
  never left to DynamoDB's TTL sweeper (up to 48 hours late; never in moto).
- ``expires_at`` is whole epoch seconds (what TTL wants), rounded up when written and compared against
  the rounded-down time, so every contender sees a lease last at least as long as its holder thinks.
- A heartbeat thread renews at a third of the lease, conditional on our token. The supervising loop (main
  thread) stops the child, SIGTERM then SIGKILL, when the lease is lost or about to expire unrenewed,
  so two holders never run together even if a DynamoDB call hangs.
- Dedupe: with a scheduled time, a second item ``{key}@{time}`` (kind "done") is claimed before the child
  starts, while holding the lease. It outlives the run (``expires_at`` days ahead), so a late duplicate
  delivery of the same scheduled time is skipped: at most once, even if the first copy was SIGKILLed.

boto3/botocore are only imported inside functions.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ecsched.durations import parse_duration as parse_duration
from ecsched.errors import EcschedError

KEY_ATTR = "key"
TTL_ATTR = "expires_at"
EXIT_LOCKED = 75  # EX_TEMPFAIL: held, with --on-locked fail, or the wait timed out
EXIT_NOT_RUN = 125  # ecsched itself failed before the command started (as env/timeout do)
EXIT_CANNOT_EXEC = 126
EXIT_NOT_FOUND = 127
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
MIN_LEASE = 1.0

def fmt_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{int(seconds * 1000)}ms"
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    out = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{sec}s" if sec else "")
    return out or "0s"


def fmt_time(ts: float | None) -> str:
    if ts is None:
        return "?"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- who we are ------------------------------------------------------------------------------------


def owner_identity(environ: dict[str, str] | None = None, timeout: float = 2.0) -> tuple[str, str | None]:
    """(owner, warning). The ECS task ARN from the task metadata endpoint v4, else host:pid."""
    env = os.environ if environ is None else environ
    fallback = f"{socket.gethostname()}:{os.getpid()}"
    base = env.get("ECS_CONTAINER_METADATA_URI_V4")
    if not base:
        return fallback, None
    try:
        with urllib.request.urlopen(base.rstrip("/") + "/task", timeout=timeout) as resp:
            arn = json.loads(resp.read().decode("utf-8")).get("TaskARN")
        if isinstance(arn, str) and arn:
            return arn, None
        problem = "no TaskARN in the answer"
    except (OSError, ValueError) as e:
        problem = str(e)
    return fallback, f"cannot read the task ARN from the ECS metadata endpoint ({problem}); owner: {fallback}"


def region_of_arn(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" and parts[3] else None


# --- the table ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One item of the lock table: a lease, or a dedupe ("done") record."""

    key: str
    kind: str
    owner: str
    token: str | None
    since: float | None
    expires_at: int
    scheduled_time: str | None = None
    exit_code: int | None = None
    finished_at: float | None = None

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at < math.floor(time.time() if now is None else now)

    def describe(self) -> str:
        return f"{self.owner} since {fmt_time(self.since)}"

    def as_json(self, now: float | None = None) -> dict[str, Any]:
        state = "done" if self.kind == "done" else ("expired" if self.expired(now) else "held")
        out: dict[str, Any] = {"key": self.key, "kind": self.kind, "state": state, "owner": self.owner,
                               "since": fmt_time(self.since), "expires": fmt_time(self.expires_at)}
        if self.scheduled_time:
            out["scheduled_time"] = self.scheduled_time
        if self.exit_code is not None:
            out["exit_code"] = self.exit_code
        if self.finished_at is not None:
            out["finished"] = fmt_time(self.finished_at)
        return out

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Record:
        def s(name: str) -> str | None:
            v = item.get(name, {})
            return str(v["S"]) if "S" in v else None

        def n(name: str) -> float | None:
            v = item.get(name, {})
            try:
                return float(v["N"]) if "N" in v else None
            except ValueError:
                return None

        exit_code = n("exit_code")
        return cls(key=s(KEY_ATTR) or "", kind=s("kind") or "lease", owner=s("owner") or "?",
                   token=s("token"), since=n("acquired_at"), expires_at=int(n(TTL_ATTR) or 0),
                   scheduled_time=s("scheduled_time"),
                   exit_code=None if exit_code is None else int(exit_code), finished_at=n("finished_at"))


class LeaseLost(Exception):
    """The lease item no longer carries our token."""


class LockTableError(EcschedError):
    """The lock table cannot be used (missing, no permission, unreachable). The command is not run."""

    exit_code = EXIT_NOT_RUN


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "")) or None
    return None


def describe_error(exc: BaseException, table: str, region: str, action: str) -> str:
    """One sentence naming the table and the fix."""
    code = _error_code(exc)
    name = type(exc).__name__
    if code == "ResourceNotFoundException":
        return (f"DynamoDB table {table!r} does not exist in {region}: create it once with "
                f"`ecsched lock --create-table --table {table}`, or point --table / ECSCHED_LOCK_TABLE / "
                f"lockTable at the right one")
    if code in ("AccessDeniedException", "AccessDenied"):
        return (f"not allowed to {action} on DynamoDB table {table!r} in {region}: grant dynamodb:GetItem, "
                f"PutItem, UpdateItem, DeleteItem (and Scan for `ecsched locks`) on "
                f"arn:aws:dynamodb:{region}:*:table/{table} to the task role "
                f"(see docs/exclusive-execution.md)")
    if code in ("UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException"):
        return f"AWS rejected the credentials used for DynamoDB table {table!r} ({code}); check the task role"
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return (f"no AWS credentials to use DynamoDB table {table!r}: give the task a task role "
                f"(or set AWS_PROFILE / AWS_ACCESS_KEY_ID)")
    if code:
        message = getattr(exc, "response", {}).get("Error", {}).get("Message", "")
        return f"DynamoDB table {table!r}: {action} failed: {code}: {message}"
    return f"cannot reach DynamoDB for table {table!r} in {region}: {exc}"


class LockTable:
    """The DynamoDB calls. Every non-conditional failure becomes a LockTableError with a plain sentence."""

    def __init__(self, client: Any, table: str, region: str) -> None:
        self.client = client
        self.name = table
        self.region = region

    def _call(self, action: str, op: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, op)(TableName=self.name, **kwargs)
        except Exception as e:
            if _error_code(e) == "ConditionalCheckFailedException":
                raise
            raise LockTableError(describe_error(e, self.name, self.region, action)) from e

    # --- setup -------------------------------------------------------------------------------------
    def create(self, log: Callable[[str], None]) -> None:
        """Idempotent: create (on-demand), wait until active, make sure TTL is on `expires_at`."""
        try:
            self.client.create_table(
                TableName=self.name,
                KeySchema=[{"AttributeName": KEY_ATTR, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": KEY_ATTR, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            log(f"created DynamoDB table {self.name} in {self.region} (on-demand)")
        except Exception as e:
            if _error_code(e) != "ResourceInUseException":
                raise LockTableError(describe_error(e, self.name, self.region, "create the table")) from e
            log(f"DynamoDB table {self.name} already exists in {self.region}")
        try:
            self.client.get_waiter("table_exists").wait(
                TableName=self.name, WaiterConfig={"Delay": 2, "MaxAttempts": 150})
        except Exception as e:
            raise LockTableError(f"DynamoDB table {self.name!r} did not become active: {e}") from e
        desc = self._call("describe the table", "describe_table")["Table"]
        schema = desc.get("KeySchema") or []
        if schema != [{"AttributeName": KEY_ATTR, "KeyType": "HASH"}]:
            raise LockTableError(
                f"DynamoDB table {self.name!r} exists with key schema {schema}; ecsched needs a string hash "
                f"key named {KEY_ATTR!r}: pick another --table name")
        ttl = self._call("describe TTL", "describe_time_to_live").get("TimeToLiveDescription", {})
        status, attr = ttl.get("TimeToLiveStatus"), ttl.get("AttributeName")
        if status in ("ENABLED", "ENABLING") and attr == TTL_ATTR:
            log(f"TTL on {TTL_ATTR} is {status.lower()}")
        elif status in ("ENABLED", "ENABLING", "DISABLING"):
            # Locks still work (expiry is in the condition); only the sweeping of old items is lost.
            log(f"warning: TTL on table {self.name} is {status.lower()} on {attr!r}, not {TTL_ATTR!r}: "
                f"old lock records will not be deleted automatically")
        else:
            self._call("enable TTL", "update_time_to_live",
                       TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTR})
            log(f"enabled TTL on {TTL_ATTR}")

    # --- leases ------------------------------------------------------------------------------------
    def acquire(self, key: str, owner: str, token: str, lease: float,
                scheduled_time: str | None = None) -> tuple[bool, Record | None, int]:
        """(acquired, other, our expires_at). `other` is the holder when not acquired, and the stale lease
        taken over (or None) when acquired."""
        for _ in range(5):
            now = time.time()
            expires = math.ceil(now + lease)
            item = {KEY_ATTR: {"S": key}, "kind": {"S": "lease"}, "owner": {"S": owner},
                    "token": {"S": token}, "acquired_at": {"N": f"{now:.3f}"}, TTL_ATTR: {"N": str(expires)}}
            if scheduled_time:
                item["scheduled_time"] = {"S": scheduled_time}
            try:
                resp = self._call(
                    "acquire a lock", "put_item", Item=item,
                    ConditionExpression="attribute_not_exists(#k) OR #e < :now",
                    ExpressionAttributeNames={"#k": KEY_ATTR, "#e": TTL_ATTR},
                    ExpressionAttributeValues={":now": {"N": str(math.floor(now))}},
                    ReturnValues="ALL_OLD", ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except LockTableError:
                raise
            except Exception as e:
                current = getattr(e, "response", {}).get("Item")
                holder = Record.from_item(current) if current else self.get(key)
                if holder is not None and holder.token == token:
                    # Our first attempt went through and botocore retried it (timeout): we hold it.
                    return True, None, holder.expires_at
                if holder is None:
                    continue  # released between the put and the read
                return False, holder, 0
            old = resp.get("Attributes")
            return True, (Record.from_item(old) if old else None), expires
        raise LockTableError(f"lock {key}: DynamoDB table {self.name!r} keeps changing under us; try again")

    def renew(self, key: str, token: str, lease: float) -> int:
        expires = math.ceil(time.time() + lease)
        try:
            self._call("renew a lock", "update_item", Key={KEY_ATTR: {"S": key}},
                       UpdateExpression="SET #e = :e", ConditionExpression="#t = :t",
                       ExpressionAttributeNames={"#e": TTL_ATTR, "#t": "token"},
                       ExpressionAttributeValues={":e": {"N": str(expires)}, ":t": {"S": token}},
                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except LockTableError:
            raise
        except Exception as e:
            current = getattr(e, "response", {}).get("Item")
            if not current:
                raise LeaseLost("the lock item was deleted (force-released?)") from e
            rec = Record.from_item(current)
            raise LeaseLost(f"taken over by {rec.describe()}") from e
        return expires

    def release(self, key: str, token: str | None) -> bool:
        """Delete, conditional on the token. False when someone else holds it now."""
        if token is None:
            cond, values = "attribute_not_exists(#t)", {}
        else:
            cond, values = "#t = :t", {":t": {"S": token}}
        try:
            self._call("release a lock", "delete_item", Key={KEY_ATTR: {"S": key}},
                       ConditionExpression=f"attribute_not_exists(#k) OR {cond}",
                       ExpressionAttributeNames={"#k": KEY_ATTR, "#t": "token"},
                       **({"ExpressionAttributeValues": values} if values else {}))
        except LockTableError:
            raise
        except Exception:
            return False
        return True

    def get(self, key: str) -> Record | None:
        item = self._call("read a lock", "get_item", Key={KEY_ATTR: {"S": key}}, ConsistentRead=True)
        item = item.get("Item")
        return Record.from_item(item) if item else None

    def records(self) -> Iterator[Record]:
        start: dict[str, Any] | None = None
        while True:
            page = self._call("list locks", "scan", ConsistentRead=True,
                              **({"ExclusiveStartKey": start} if start else {}))
            for item in page.get("Items", []):
                yield Record.from_item(item)
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    # --- dedupe records ----------------------------------------------------------------------------
    @staticmethod
    def done_key(key: str, scheduled_time: str) -> str:
        return f"{key}@{scheduled_time}"

    def claim_run(self, key: str, scheduled_time: str, owner: str, token: str, keep: float) -> Record | None:
        """Record that this scheduled time is being run. None if claimed, else the earlier record."""
        now = time.time()
        dkey = self.done_key(key, scheduled_time)
        item = {KEY_ATTR: {"S": dkey}, "kind": {"S": "done"}, "owner": {"S": owner}, "token": {"S": token},
                "acquired_at": {"N": f"{now:.3f}"}, TTL_ATTR: {"N": str(math.ceil(now + keep))},
                "scheduled_time": {"S": scheduled_time}}
        try:
            self._call("record a run", "put_item", Item=item,
                       ConditionExpression="attribute_not_exists(#k) OR #e < :now",
                       ExpressionAttributeNames={"#k": KEY_ATTR, "#e": TTL_ATTR},
                       ExpressionAttributeValues={":now": {"N": str(math.floor(now))}},
                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except LockTableError:
            raise
        except Exception as e:
            current = getattr(e, "response", {}).get("Item")
            rec = Record.from_item(current) if current else self.get(dkey)
            if rec is None or rec.token == token:
                return None
            return rec
        return None

    def previous_run(self, key: str, scheduled_time: str) -> Record | None:
        rec = self.get(self.done_key(key, scheduled_time))
        return rec if rec is not None and not rec.expired() else None

    def finish_run(self, key: str, scheduled_time: str, token: str, exit_code: int) -> None:
        try:
            self._call("record a run", "update_item",
                       Key={KEY_ATTR: {"S": self.done_key(key, scheduled_time)}},
                       UpdateExpression="SET exit_code = :c, finished_at = :f", ConditionExpression="#t = :t",
                       ExpressionAttributeNames={"#t": "token"},
                       ExpressionAttributeValues={":c": {"N": str(exit_code)},
                                                  ":f": {"N": f"{time.time():.3f}"}, ":t": {"S": token}})
        except LockTableError:
            raise
        except Exception:
            pass  # replaced meanwhile: nothing of ours to update

    def unclaim_run(self, key: str, scheduled_time: str, token: str) -> None:
        self.release(self.done_key(key, scheduled_time), token)


def dynamodb_client(aws: Any, lease: float) -> Any:
    """A client with short timeouts and few retries: a renewal must fail fast, not hang past the lease."""
    from botocore.config import Config

    timeout = max(1.0, min(5.0, lease / 4))
    cfg = Config(connect_timeout=timeout, read_timeout=timeout,
                 retries={"mode": "standard", "max_attempts": 2})
    return aws.session.client("dynamodb", region_name=aws.region, config=cfg)


# --- running the command --------------------------------------------------------------------------------


class Log(Protocol):
    def info(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def error(self, message: str) -> None: ...


class Heartbeat(threading.Thread):
    """Renews the lease every lease/3; after a failure, retries sooner. Never stops the child itself."""

    def __init__(self, table: LockTable, key: str, token: str, lease: float, expires_at: int,
                 log: Log) -> None:
        super().__init__(name="ecsched-lock-heartbeat", daemon=True)
        self.table, self.key, self.token, self.lease, self.log = table, key, token, lease, log
        self.expires_at = float(expires_at)  # our own, conservative view of when others may take over
        self.lost: str | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        interval = self.lease / 3
        delay = interval
        failing_since: float | None = None
        while not self._halt.wait(delay):
            try:
                self.expires_at = float(self.table.renew(self.key, self.token, self.lease))
            except LeaseLost as e:
                self.lost = str(e)
                return
            except Exception as e:
                if self._halt.is_set():
                    return
                if failing_since is None:
                    failing_since = time.time()
                    self.log.warn(f"lock {self.key}: cannot renew the lease ({e}); retrying until it expires "
                                  f"at {fmt_time(self.expires_at)}")
                delay = min(interval, 2.0) / 2
                continue
            if failing_since is not None:
                self.log.info(f"ecsched lock: lock {self.key}: lease renewed again")
                failing_since = None
            delay = interval

    def stop(self) -> None:
        # No long join: a renewal stuck on an unreachable DynamoDB must not delay the exit; one that lands
        # after the release fails its condition and changes nothing.
        self._halt.set()
        if self.is_alive():
            self.join(timeout=0.5)


class SignalForwarder:
    """SIGTERM/SIGINT/SIGHUP go to the child's process group once it runs; before that they abort the wait.

    A signal that arrives after the last pre-start check but before `attach` is kept in `pending` and
    delivered by `attach`: it is never lost, and never delivered twice."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.pending: list[int] = []
        self.child: subprocess.Popen[bytes] | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> SignalForwarder:
        if threading.current_thread() is threading.main_thread():
            for sig in FORWARDED:
                old = signal.getsignal(sig)
                if old == signal.SIG_IGN:
                    continue  # e.g. nohup: the child inherits the ignore, we do not undo it
                self._old[sig] = old
                signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)

    def _handle(self, signum: int, frame: object) -> None:
        # Handlers run in the main thread between bytecodes: `self.child` is either set or not.
        self.received.append(signum)
        child = self.child
        if child is None:
            self.pending.append(signum)
        else:
            _signal_group(child, signum)

    def attach(self, child: subprocess.Popen[bytes]) -> None:
        """From now on signals go to the child; those that came in while it was being started follow."""
        self.child = child
        while self.pending:
            _signal_group(child, self.pending.pop(0))

    def interrupted(self) -> int | None:
        return self.received[0] if self.received else None


def _die_with_parent() -> Callable[[], None] | None:
    """Linux: the child gets SIGKILL if ecsched itself dies (SIGKILL, OOM); no lease, no child.

    This reaches the direct child only: its own children (in the child's process group) are stopped
    through the group on every path ecsched controls, but not when ecsched itself is SIGKILLed."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # parent already gone before prctl took effect
            os._exit(EXIT_NOT_RUN)

    return preexec


def exit_code_of(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


@dataclass
class LockOptions:
    key: str
    command: Sequence[str]
    lease: float = 60.0
    on_locked: str = "skip"  # skip | fail | wait
    wait_timeout: float = 600.0
    poll: float = 1.0
    scheduled_time: str | None = None
    dedupe_keep: float = 7 * 86400.0


def run_locked(table: LockTable, opts: LockOptions, owner: str, log: Log) -> int:
    """Acquire (or skip/fail/wait), run the command, supervise the lease, release. Returns the exit code."""
    token = uuid.uuid4().hex
    name = opts.key
    with SignalForwarder() as fwd:
        started = time.monotonic()
        announced = False
        while True:
            acquired, other, expires_at = table.acquire(name, owner, token, opts.lease, opts.scheduled_time)
            if acquired:
                break
            assert other is not None
            if opts.scheduled_time and other.scheduled_time == opts.scheduled_time:
                log.info(f"ecsched lock: {name} for scheduled time {opts.scheduled_time} is already running "
                         f"({other.describe()}); skipping this duplicate delivery")
                return 0
            if opts.scheduled_time:
                prev = table.previous_run(name, opts.scheduled_time)
                if prev is not None:
                    log.info(f"ecsched lock: {name} already ran for scheduled time {opts.scheduled_time} "
                             f"({prev.describe()}); skipping this duplicate delivery")
                    return 0
            held = f"lock {name} is held by {other.describe()} (lease expires {fmt_time(other.expires_at)})"
            if opts.on_locked == "skip":
                log.info(f"ecsched lock: {held}; skipping")
                return 0
            if opts.on_locked == "fail":
                log.error(f"{held}; not running (exit {EXIT_LOCKED})")
                return EXIT_LOCKED
            waited = time.monotonic() - started
            if waited >= opts.wait_timeout:
                log.error(f"{held}; gave up after waiting {fmt_duration(waited)} (exit {EXIT_LOCKED})")
                return EXIT_LOCKED
            if not announced:
                log.info(f"ecsched lock: {held}; waiting up to {fmt_duration(opts.wait_timeout)}")
                announced = True
            # Jitter so that waiters do not all retry in the same instant.
            pause = min(opts.poll * random.uniform(0.75, 1.25),
                        max(0.0, opts.wait_timeout - waited))
            end = time.monotonic() + pause
            while time.monotonic() < end and fwd.interrupted() is None:
                time.sleep(min(0.05, max(0.0, end - time.monotonic())))
            if (sig := fwd.interrupted()) is not None:
                return 128 + sig

        if other is not None and other.token != token:
            log.warn(f"lock {name}: took over the expired lease of {other.owner} (held since "
                     f"{fmt_time(other.since)}, expired {fmt_time(other.expires_at)}), which was never released "
                     f"(killed, or cut off from DynamoDB)")
        heartbeat = Heartbeat(table, name, token, opts.lease, expires_at, log)
        claimed = False
        try:
            if (sig := fwd.interrupted()) is not None:
                return 128 + sig
            if opts.scheduled_time:
                prev = table.claim_run(name, opts.scheduled_time, owner, token, opts.dedupe_keep)
                if prev is not None:
                    finished = f", finished {fmt_time(prev.finished_at)}" if prev.finished_at else ""
                    log.info(f"ecsched lock: {name} already ran for scheduled time {opts.scheduled_time} "
                             f"({prev.describe()}{finished}); skipping this duplicate delivery")
                    return 0
                claimed = True
            if (sig := fwd.interrupted()) is not None:
                # Stopped while the run was being recorded: do not start the command at all.
                if claimed and opts.scheduled_time:
                    _unclaim(table, name, opts.scheduled_time, token, log)
                    claimed = False
                log.info(f"ecsched lock: {name}: {signal.Signals(sig).name} before the command started; "
                         f"not running it")
                return 128 + sig
            try:
                # Its own process group: every stop (forwarded signal, lost lease, SIGKILL) reaches the
                # command's children too, not just the command.
                child = subprocess.Popen(list(opts.command), preexec_fn=_die_with_parent(), process_group=0)
            except (FileNotFoundError, PermissionError, OSError) as e:
                if claimed and opts.scheduled_time:
                    table.unclaim_run(name, opts.scheduled_time, token)
                    claimed = False
                code = EXIT_NOT_FOUND if isinstance(e, FileNotFoundError) else EXIT_CANNOT_EXEC
                log.error(f"cannot run {opts.command[0]!r}: {e.strerror or e}")
                return code
            fwd.attach(child)  # delivers a signal that came in while the command was being started
            # Started after the fork: preexec_fn and threads do not mix.
            heartbeat.start()
            code = _supervise(child, heartbeat, opts, log)
            if claimed and opts.scheduled_time:
                try:
                    table.finish_run(name, opts.scheduled_time, token, code)
                except Exception as e:
                    log.warn(f"lock {name}: could not record the end of the run: {e}")
            return code
        finally:
            heartbeat.stop()
            try:
                if not table.release(name, token) and heartbeat.lost is None:
                    log.warn(f"lock {name}: not released: it is no longer ours")
            except Exception as e:
                log.warn(f"lock {name}: could not release the lease ({e}); it expires by itself at "
                         f"{fmt_time(heartbeat.expires_at)}")


def _supervise(child: subprocess.Popen[bytes], heartbeat: Heartbeat, opts: LockOptions, log: Log) -> int:
    """Wait for the child; stop it if the lease is lost or about to expire unrenewed.

    When the child exits, whatever it left running in its process group is killed before the lease is
    released: nothing the command started runs on without the lock."""
    grace = min(max(opts.lease / 4, 0.5), 15.0)
    term_at: float | None = None
    killed = False
    while True:
        if _exited(child):
            # The exited child is not reaped yet, so its pid (the group id) cannot have been reused.
            _signal_group(child, signal.SIGKILL)
            return exit_code_of(child.wait())
        time.sleep(0.1)
        now = time.time()
        lost = heartbeat.lost
        if term_at is None and (lost is not None or now >= heartbeat.expires_at - grace):
            why = (f"the lease was lost: {lost}" if lost is not None
                   else f"the lease could not be renewed and expires at {fmt_time(heartbeat.expires_at)}")
            log.error(f"lock {opts.key}: {why}; stopping the command (SIGTERM) so that two holders never "
                      f"run together")
            _signal_group(child, signal.SIGTERM)
            term_at = now
        if term_at is not None and not killed and (
            (heartbeat.lost is not None and now >= term_at + grace) or now >= heartbeat.expires_at
        ):
            log.error(f"lock {opts.key}: the command did not stop in time; SIGKILL")
            _signal_group(child, signal.SIGKILL)
            killed = True


def _exited(child: subprocess.Popen[bytes]) -> bool:
    """Whether the child has exited, without reaping it."""
    if child.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True  # reaped already (child.wait() will report it)


def _signal_group(child: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the command's whole process group (it leads its own; see `process_group=0`)."""
    if child.returncode is not None:
        return  # reaped: its pid, and so the group id, may belong to someone else by now
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)


def _unclaim(table: LockTable, key: str, scheduled_time: str, token: str, log: Log) -> None:
    try:
        table.unclaim_run(key, scheduled_time, token)
    except Exception as e:
        log.warn(f"lock {key}: could not undo the record of scheduled time {scheduled_time} ({e}); a "
                 f"redelivery of it will be skipped")
