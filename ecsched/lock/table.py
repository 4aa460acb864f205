"""The lock table in DynamoDB: one item per lock key, written only with conditional writes.

A lease is ``{key, kind: "lease", owner, token, acquired_at, expires_at, scheduled_time?, what?}``.

- Acquire is a conditional put, ``attribute_not_exists(key) OR expires_at < :now``: a lease whose holder
  died without cleanup is taken over once it has expired. Expiry is decided here, in the condition, and
  never left to DynamoDB's TTL sweeper (up to 48 hours late; never in moto).
- ``expires_at`` is whole epoch seconds (what TTL wants), rounded up when written and compared against
  the rounded-down time, so every contender sees a lease last at least as long as its holder thinks.
- Renewals and releases are conditional on the holder's random token.
- Dedupe: ``{key}@{time}`` (kind "done") records that a scheduled time ran; it outlives the run.

boto3/botocore are only imported inside functions.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ecsched.errors import EcschedError
from ecsched.lock.formatting import fmt_time

KEY_ATTR = "key"
TTL_ATTR = "expires_at"
EXIT_LOCKED = 75  # EX_TEMPFAIL: held, with --on-locked fail, or the wait timed out
EXIT_NOT_RUN = 125  # ecsched itself failed before the command started (as env/timeout do)

NO_TABLE = ("no lock table: pass --table NAME, set ECSCHED_LOCK_TABLE, or set `lockTable:` in the config "
            "(create the table once with `ecsched lock --create-table --table NAME`)")


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
    what: str | None = None  # what the holder does, for leases held by ecsched itself ("apply")

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at < math.floor(time.time() if now is None else now)

    def describe(self) -> str:
        what = f" ({self.what})" if self.what else ""
        return f"{self.owner}{what} since {fmt_time(self.since)}"

    def as_json(self, now: float | None = None) -> dict[str, Any]:
        state = "done" if self.kind == "done" else ("expired" if self.expired(now) else "held")
        out: dict[str, Any] = {"key": self.key, "kind": self.kind, "state": state, "owner": self.owner,
                               "since": fmt_time(self.since), "expires": fmt_time(self.expires_at)}
        if self.what:
            out["what"] = self.what
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
                   exit_code=None if exit_code is None else int(exit_code), finished_at=n("finished_at"),
                   what=s("what"))


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
    def acquire(self, key: str, owner: str, token: str, lease: float, scheduled_time: str | None = None,
                what: str | None = None) -> tuple[bool, Record | None, int]:
        """(acquired, other, our expires_at). `other` is the holder when not acquired, and the stale lease
        taken over (or None) when acquired."""
        for _ in range(5):
            now = time.time()
            expires = math.ceil(now + lease)
            item = {KEY_ATTR: {"S": key}, "kind": {"S": "lease"}, "owner": {"S": owner},
                    "token": {"S": token}, "acquired_at": {"N": f"{now:.3f}"}, TTL_ATTR: {"N": str(expires)}}
            if scheduled_time:
                item["scheduled_time"] = {"S": scheduled_time}
            if what:
                item["what"] = {"S": what}
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


class AwsLike(Protocol):
    """What the lock needs of `ecsched.aws.Aws`."""

    @property
    def session(self) -> Any: ...
    @property
    def region(self) -> str: ...


def dynamodb_client(aws: AwsLike, lease: float) -> Any:
    """A client with short timeouts and few retries: a renewal must fail fast, not hang past the lease."""
    from botocore.config import Config

    timeout = max(1.0, min(5.0, lease / 4))
    cfg = Config(connect_timeout=timeout, read_timeout=timeout,
                 retries={"mode": "standard", "max_attempts": 2})
    return aws.session.client("dynamodb", region_name=aws.region, config=cfg)


def open_table(aws: AwsLike, name: str, lease: float) -> LockTable:
    return LockTable(dynamodb_client(aws, lease), name, aws.region)


class _Settings(Protocol):
    def setting(self, key: str) -> Any: ...


def resolve_table(explicit: str | None, read_config: Callable[[], _Settings] | None, *, exit_code: int,
                  environ: Mapping[str, str] | None = None) -> str:
    """The table name: `explicit` (--table), then $ECSCHED_LOCK_TABLE, then the config's `lockTable`.
    `read_config` is None when there is no config file: inside a container there usually is none."""
    env = os.environ if environ is None else environ
    if explicit:
        return explicit
    if env.get("ECSCHED_LOCK_TABLE"):
        return env["ECSCHED_LOCK_TABLE"]
    if read_config is not None:
        try:
            table = read_config().setting("lockTable")
        except Exception as e:
            raise EcschedError(f"cannot read lockTable from the config: {e}", exit_code=exit_code) from e
        if table:
            return str(table)
    raise EcschedError(NO_TABLE, exit_code=exit_code)
