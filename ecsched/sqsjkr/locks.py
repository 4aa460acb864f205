"""sqsjkr's DynamoDB lock items: list them, release a leftover one, and share the layout with a lease.

sqsjkr's table (lock/dynamodb_lock.go): hash key `Id`, range key `Type`. A lock is
`{Id: lock_id, Type: "lock", EventId: event_id}`, taken with UpdateItem under
`attribute_not_exists(EventId)` and removed after the command with a plain DeleteItem. No TTL, no
timestamp, no owner, no heartbeat: a worker killed mid-job (a deploy's SIGKILL) leaves the item behind
for ever, and every later job with that lock_id waits (retrying every 5 s) or aborts.

Releasing is conditioned on the EventId that was shown to the person, so a lock taken again in between
by a new job is never deleted by mistake.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

HASH = "Id"
RANGE = "Type"
LOCK_TYPE = "lock"
EVENT = "EventId"
# Attributes only an ecsched lease writes on an sqsjkr-layout item (sqsjkr never reads them).
LEASE_EXPIRES = "ecsched_expires_at"
LEASE_OWNER = "ecsched_owner"


def key(lock_id: str) -> dict[str, Any]:
    return {HASH: {"S": lock_id}, RANGE: {"S": LOCK_TYPE}}


@dataclass(frozen=True)
class LockItem:
    lock_id: str
    event_id: str
    attributes: dict[str, str] = field(default_factory=dict)  # anything else on the item, as text

    @property
    def manual(self) -> bool:
        return ":manual:" in self.event_id

    @property
    def lease_expires_at(self) -> int | None:
        v = self.attributes.get(LEASE_EXPIRES)
        return int(v) if v and v.isdigit() else None

    def as_json(self) -> dict[str, Any]:
        return {"lock_id": self.lock_id, "event_id": self.event_id, **self.attributes}


def _text(av: dict[str, Any]) -> str:
    return str(next(iter(av.values())))  # S or N; anything else as Python prints it


def from_item(item: dict[str, Any]) -> LockItem:
    rest = {k: _text(v) for k, v in item.items() if k not in (HASH, RANGE, EVENT)}
    return LockItem(lock_id=_text(item[HASH]), event_id=_text(item[EVENT]) if EVENT in item else "", attributes=rest)


def check_table(ddb: Any, table: str) -> str | None:
    """None when `table` has sqsjkr's key schema; else what is wrong, in a sentence."""
    try:
        desc = ddb.describe_table(TableName=table)["Table"]
    except ddb.exceptions.ResourceNotFoundException:
        return f"table {table} does not exist (sqsjkr's lock table is the worker's [lock] table setting)"
    schema = {k["AttributeName"]: k["KeyType"] for k in desc["KeySchema"]}
    if schema != {HASH: "HASH", RANGE: "RANGE"}:
        return f"table {table} is not an sqsjkr lock table (hash key Id and range key Type)"
    return None


def list_locks(ddb: Any, table: str) -> list[LockItem]:
    """Every `Type = "lock"` item (a Scan: lock items carry no `Expired`, so the GSI does not hold them)."""
    out: list[LockItem] = []
    kwargs: dict[str, Any] = {"TableName": table, "FilterExpression": "#t = :lock", "ConsistentRead": True,
                              "ExpressionAttributeNames": {"#t": RANGE},
                              "ExpressionAttributeValues": {":lock": {"S": LOCK_TYPE}}}
    while True:
        page = ddb.scan(**kwargs)
        out += [from_item(i) for i in page.get("Items", [])]
        if not page.get("LastEvaluatedKey"):
            return sorted(out, key=lambda x: x.lock_id)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def get_lock(ddb: Any, table: str, lock_id: str) -> LockItem | None:
    item = ddb.get_item(TableName=table, Key=key(lock_id), ConsistentRead=True).get("Item")
    return from_item(item) if item else None


@dataclass(frozen=True)
class Released:
    done: bool
    message: str
    item: LockItem | None = None


def release(ddb: Any, table: str, lock_id: str, event_id: str) -> Released:
    """Delete the lock only while it still holds `event_id` (the one shown to the person)."""
    try:
        old = ddb.delete_item(TableName=table, Key=key(lock_id), ReturnValues="ALL_OLD",
                              ConditionExpression="#e = :e", ExpressionAttributeNames={"#e": EVENT},
                              ExpressionAttributeValues={":e": {"S": event_id}}).get("Attributes")
    except ddb.exceptions.ConditionalCheckFailedException:
        now = get_lock(ddb, table, lock_id)
        if now is None:
            return Released(False, f"lock {lock_id} is already gone; nothing to release")
        return Released(False, f"lock {lock_id} is now held by event {now.event_id}, not {event_id}: "
                               "left alone (a new job took it)", now)
    return Released(True, f"released lock {lock_id} (event {event_id})", from_item(old) if old else None)


# --- the layout an `ecsched lock` lease can use, so an ECS task and a worker job exclude each other ---


@dataclass(frozen=True)
class SqsjkrLayout:
    """DynamoDB call parameters for a lease kept in sqsjkr's table and key layout.

    The lease is the sqsjkr lock item itself, with our token as EventId: sqsjkr's
    `attribute_not_exists(EventId)` then refuses it while we hold it, and ours refuses it while a worker
    holds it. Our item also carries `ecsched_expires_at`, so a crashed ecsched holder is taken over by
    the next ecsched lease once it expired. sqsjkr itself never takes over (its condition ignores
    expiry), and a worker's own lock never expires (it has no `ecsched_expires_at`).
    """

    table: str

    def acquire(self, lock_id: str, token: str, owner: str, expires_at: int, now: int | None = None) -> dict[str, Any]:
        now = int(time.time()) if now is None else now
        return {
            "TableName": self.table, "Key": key(lock_id),
            "UpdateExpression": "SET #e = :t, #x = :x, #o = :o",
            "ConditionExpression": "attribute_not_exists(#e) OR (attribute_exists(#x) AND #x < :now)",
            "ExpressionAttributeNames": {"#e": EVENT, "#x": LEASE_EXPIRES, "#o": LEASE_OWNER},
            "ExpressionAttributeValues": {":t": {"S": token}, ":x": {"N": str(expires_at)}, ":o": {"S": owner},
                                          ":now": {"N": str(now)}},
        }

    def renew(self, lock_id: str, token: str, expires_at: int) -> dict[str, Any]:
        return {
            "TableName": self.table, "Key": key(lock_id), "UpdateExpression": "SET #x = :x",
            "ConditionExpression": "#e = :t", "ExpressionAttributeNames": {"#e": EVENT, "#x": LEASE_EXPIRES},
            "ExpressionAttributeValues": {":t": {"S": token}, ":x": {"N": str(expires_at)}},
        }

    def release(self, lock_id: str, token: str) -> dict[str, Any]:
        return {
            "TableName": self.table, "Key": key(lock_id), "ConditionExpression": "#e = :t",
            "ExpressionAttributeNames": {"#e": EVENT}, "ExpressionAttributeValues": {":t": {"S": token}},
        }

    def get(self, lock_id: str) -> dict[str, Any]:
        return {"TableName": self.table, "Key": key(lock_id), "ConsistentRead": True}


def token_for(owner: str, nonce: str) -> str:
    """The EventId an ecsched lease writes: recognisable in `locks --sqsjkr` and sqsjkr's own log."""
    return f"ecsched-lock:{owner}:{nonce}"
