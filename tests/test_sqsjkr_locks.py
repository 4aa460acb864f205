"""sqsjkr's lock items in a moto table: list, conditional release, and a lease in sqsjkr's layout that
excludes the worker (and is excluded by it), call for call as sqsjkr makes them."""

from __future__ import annotations

import pytest

from ecsched.sqsjkr.locks import SqsjkrLayout, check_table, get_lock, list_locks, release, token_for
from tests.conftest import client
from tests.sqsjkr_helpers import make_lock_table, sqsjkr_lock, sqsjkr_unlock


def ddb():  # type: ignore[no-untyped-def]
    return client("dynamodb")


def test_list_shows_only_lock_items(aws: str) -> None:
    table = make_lock_table()
    assert sqsjkr_lock(table, "export-orders", "orders-export:manual:1")
    assert sqsjkr_lock(table, "import", "msg-123")
    # sqsjkr's throttle items live in the same table: never listed as locks.
    ddb().put_item(TableName=table, Item={"Id": {"S": "msg-9"}, "Type": {"S": "throttle"}, "Expired": {"N": "1"}})
    got = list_locks(ddb(), table)
    assert [(x.lock_id, x.event_id) for x in got] == [
        ("export-orders", "orders-export:manual:1"), ("import", "msg-123")]
    assert got[0].manual and not got[1].manual
    assert got[0].as_json() == {"lock_id": "export-orders", "event_id": "orders-export:manual:1"}


def test_list_pages_through_the_scan(aws: str) -> None:
    table = make_lock_table()
    for i in range(30):
        assert sqsjkr_lock(table, f"lock-{i:02}", f"e{i}")
    c = ddb()
    real_scan = c.scan
    pages: list[int] = []

    def small_pages(**kw):  # type: ignore[no-untyped-def]
        pages.append(1)
        return real_scan(Limit=7, **kw)

    c.scan = small_pages
    assert [x.lock_id for x in list_locks(c, table)] == [f"lock-{i:02}" for i in range(30)]
    assert len(pages) > 1


def test_release_is_conditioned_on_the_event_shown(aws: str) -> None:
    table = make_lock_table()
    assert sqsjkr_lock(table, "export-orders", "dead-event")
    shown = get_lock(ddb(), table, "export-orders")
    assert shown is not None and shown.event_id == "dead-event"
    # Meanwhile the leftover was cleared and a new job took the lock: releasing what was shown must not
    # free the new holder.
    sqsjkr_unlock(table, "export-orders")
    assert sqsjkr_lock(table, "export-orders", "new-event")
    r = release(ddb(), table, "export-orders", shown.event_id)
    assert not r.done and "new-event" in r.message
    assert get_lock(ddb(), table, "export-orders") is not None
    r = release(ddb(), table, "export-orders", "new-event")
    assert r.done and r.item is not None and r.item.event_id == "new-event"
    assert get_lock(ddb(), table, "export-orders") is None
    r = release(ddb(), table, "export-orders", "new-event")
    assert not r.done and "already gone" in r.message


def test_check_table(aws: str) -> None:
    table = make_lock_table()
    assert check_table(ddb(), table) is None
    assert "does not exist" in (check_table(ddb(), "nope") or "")
    ddb().create_table(TableName="leases", BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}])
    assert "not an sqsjkr lock table" in (check_table(ddb(), "leases") or "")


# --- a lease in sqsjkr's layout --------------------------------------------------------------------------


def acquire(layout: SqsjkrLayout, token: str, expires_at: int, now: int) -> bool:
    c = ddb()
    try:
        c.update_item(**layout.acquire("export-orders", token, "ecs-task/abc", expires_at, now))
    except c.exceptions.ConditionalCheckFailedException:
        return False
    return True


def test_a_lease_excludes_the_worker_and_the_worker_excludes_the_lease(aws: str) -> None:
    layout = SqsjkrLayout(make_lock_table())
    t1 = token_for("ecs-task/abc", "1")
    assert acquire(layout, t1, expires_at=2000, now=1000)
    assert not sqsjkr_lock(layout.table, "export-orders", "worker-event")  # the worker waits behind us
    (item,) = list_locks(ddb(), layout.table)
    assert item.event_id == t1 and item.lease_expires_at == 2000  # shown by `locks --sqsjkr`
    ddb().delete_item(**layout.release("export-orders", t1))
    assert sqsjkr_lock(layout.table, "export-orders", "worker-event")
    assert not acquire(layout, token_for("ecs-task/abc", "2"), expires_at=99_999, now=9_999)  # never expires


def test_an_expired_lease_is_taken_over_by_a_lease_only(aws: str) -> None:
    layout = SqsjkrLayout(make_lock_table())
    assert acquire(layout, "old", expires_at=1500, now=1000)
    assert not acquire(layout, "new", expires_at=2500, now=1400)  # still valid
    assert not sqsjkr_lock(layout.table, "export-orders", "worker")  # sqsjkr never takes over
    assert acquire(layout, "new", expires_at=2500, now=1600)
    c = ddb()
    with pytest.raises(c.exceptions.ConditionalCheckFailedException):
        c.update_item(**layout.renew("export-orders", "old", 3000))  # the old holder lost it
    c.update_item(**layout.renew("export-orders", "new", 3000))
    with pytest.raises(c.exceptions.ConditionalCheckFailedException):
        c.delete_item(**layout.release("export-orders", "old"))
    item = c.get_item(**layout.get("export-orders"))["Item"]
    assert item["EventId"]["S"] == "new" and item["ecsched_expires_at"]["N"] == "3000"
