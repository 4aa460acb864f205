"""An `ecsched lock` lease kept in sqsjkr's lock table and key layout (`--sqsjkr-table T`), so that an
ECS task and a worker job sharing a `lock_id` exclude each other (docs/sqsjkr.md).

The lease is sqsjkr's lock item `{Id: key, Type: "lock"}` with our EventId (`ecsched-lock:OWNER:TOKEN`)
and `ecsched_expires_at`: a crashed ecsched holder is taken over once expired, by an ecsched lease only;
a worker's own lock never expires. sqsjkr's table has no place for scheduled-time ("done") records, so
`--scheduled-time` is refused with it. The calls are ecsched.sqsjkr.locks.SqsjkrLayout's.
"""

from __future__ import annotations

import math
import time
from typing import Any

from ecsched.lock.table import LeaseLost, LockTable, LockTableError, Record
from ecsched.sqsjkr.locks import EVENT, HASH, LEASE_EXPIRES, LEASE_OWNER, SqsjkrLayout, token_for

NEVER = 253_402_300_799  # 9999-12-31T23:59:59Z: a worker's lock has no expiry


def record_of(item: dict[str, Any]) -> Record:
    def s(name: str) -> str | None:
        v = item.get(name, {})
        return str(v["S"]) if "S" in v else None

    event = s(EVENT) or ""
    expires = item.get(LEASE_EXPIRES, {}).get("N")
    owner = s(LEASE_OWNER) or f"an sqsjkr worker job (event {event})"
    return Record(key=s(HASH) or "", kind="lease", owner=owner, token=event, since=None,
                  expires_at=int(expires) if expires else NEVER)


class SqsjkrLockTable(LockTable):
    """LockTable's lease calls on sqsjkr's layout. Dedupe records are not supported (refused earlier)."""

    def __init__(self, client: Any, table: str, region: str) -> None:
        super().__init__(client, table, region)
        self.layout = SqsjkrLayout(table)
        self._events: dict[str, str] = {}  # our token -> the EventId written for it

    def _raw(self, action: str, op: str, params: dict[str, Any]) -> Any:
        params = dict(params)
        params.pop("TableName")
        return self._call(action, op, **params)

    def acquire(self, key: str, owner: str, token: str, lease: float, scheduled_time: str | None = None,
                what: str | None = None) -> tuple[bool, Record | None, int]:
        if scheduled_time:
            raise LockTableError("sqsjkr's lock table has no place for scheduled-time records: drop "
                                 "--scheduled-time (and ECSCHED_SCHEDULED_TIME) with --sqsjkr-table")
        event = self._events.setdefault(token, token_for(owner, token))
        now = time.time()
        expires = math.ceil(now + lease)
        params = self.layout.acquire(key, event, owner, expires, now=math.floor(now))
        try:
            resp = self._raw("acquire a lock", "update_item", {**params, "ReturnValues": "ALL_OLD"})
        except LockTableError:
            raise
        except Exception:
            holder = self.get(key)
            if holder is not None and holder.token == event:
                return True, None, holder.expires_at  # our own write, retried by botocore
            if holder is None:
                return self.acquire(key, owner, token, lease)
            return False, holder, 0
        old = resp.get("Attributes")
        return True, (record_of(old) if old and EVENT in old else None), expires

    def renew(self, key: str, token: str, lease: float) -> int:
        expires = math.ceil(time.time() + lease)
        try:
            self._raw("renew a lock", "update_item", self.layout.renew(key, self._events.get(token, token), expires))
        except LockTableError:
            raise
        except Exception as e:
            now = self.get(key)
            raise LeaseLost("the lock item was deleted (force-released?)" if now is None
                            else f"taken over by {now.describe()}") from e
        return expires

    def release(self, key: str, token: str | None) -> bool:
        if token is None:
            return self.get(key) is None
        try:
            self._raw("release a lock", "delete_item", self.layout.release(key, self._events.get(token, token)))
        except LockTableError:
            raise
        except Exception:
            return self.get(key) is None
        return True

    def get(self, key: str) -> Record | None:
        item = self._raw("read a lock", "get_item", self.layout.get(key)).get("Item")
        return record_of(item) if item else None
