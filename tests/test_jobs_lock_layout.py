"""`ecsched lock --sqsjkr-table`: the lease is sqsjkr's own lock item, so an ECS task under `ecsched lock`
and a worker job with the same lock_id exclude each other (against moto; the worker's calls are sqsjkr's,
from tests/sqsjkr_helpers.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Result, client
from tests.sqsjkr_helpers import make_lock_table, sqsjkr_lock, sqsjkr_unlock

# Run as the locked command: try sqsjkr's own Lock call while ecsched holds the lease.
WORKER_TRIES = """
import sys, boto3
ddb = boto3.client("dynamodb")
try:
    ddb.update_item(TableName=sys.argv[1], Key={"Id": {"S": "export-orders"}, "Type": {"S": "lock"}},
                    ExpressionAttributeNames={"#e": "EventId"}, ExpressionAttributeValues={":e": {"S": "w"}},
                    ConditionExpression="attribute_not_exists(EventId)", UpdateExpression="set #e = :e")
    print("worker got it")
except ddb.exceptions.ConditionalCheckFailedException:
    print("worker refused")
"""


def item(table: str) -> dict[str, object] | None:
    return client("dynamodb").get_item(TableName=table, Key={"Id": {"S": "export-orders"},
                                                             "Type": {"S": "lock"}}).get("Item")


def test_the_lease_excludes_a_worker_job_and_is_gone_after(
        aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    table = make_lock_table()
    out = tmp_path / "out"
    res = cli("lock", "--sqsjkr-table", table, "--key", "export-orders", "--", "sh", "-c",
              f'{sys.executable} -c "$0" {table} > {out}', WORKER_TRIES)
    assert res.code == 0, res.err
    assert out.read_text().strip() == "worker refused"
    assert item(table) is None
    assert sqsjkr_lock(table, "export-orders", "next")


def test_a_worker_job_excludes_the_lease(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    table = make_lock_table()
    assert sqsjkr_lock(table, "export-orders", "worker-event")
    marker = tmp_path / "ran"
    res = cli("lock", "--sqsjkr-table", table, "--key", "export-orders", "--on-locked", "fail", "--",
              "touch", str(marker))
    assert res.code == 75
    assert "worker-event" in res.err
    assert not marker.exists()
    got = item(table)
    assert got is not None and got["EventId"] == {"S": "worker-event"}  # left alone
    sqsjkr_unlock(table, "export-orders")


def test_scheduled_time_is_refused_with_the_sqsjkr_layout(aws: str, cli: Callable[..., Result]) -> None:
    table = make_lock_table()
    res = cli("lock", "--sqsjkr-table", table, "--key", "k", "--scheduled-time", "2026-12-02T16:00:00Z", "--",
              "true")
    assert res.code == 125 and "scheduled-time" in res.err
