"""`ecsched locks --sqsjkr` against moto: list sqsjkr's lock items, and release a leftover one only while
it still holds the event that was shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Result, client
from tests.sqsjkr_helpers import make_lock_table, sqsjkr_lock
from tests.test_jobs_apply import job_rule, write


def test_list_shows_every_lock_item_and_who_holds_it(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    table = make_lock_table()
    assert sqsjkr_lock(table, "export-orders", "0c5f3e4a-msg-id")
    manual = "nightly:manual:20261202T161500Z-3f9a1c2b"
    assert sqsjkr_lock(table, "nightly", manual)
    res = cli("locks", "--sqsjkr", "--table", table)
    assert res.code == 0, res.err
    lines = res.out.splitlines()
    assert lines[0].split() == ["LOCK", "ID", "EVENT", "ID", "HELD", "BY"]
    assert lines[1].startswith("export-orders") and "scheduled fire" in lines[1]
    assert lines[2].startswith("nightly") and "`ecsched run` of rule nightly" in lines[2]
    as_json = json.loads(cli("locks", "--sqsjkr", "--table", table, "--format", "json").out)
    assert [(i["lock_id"], i["event_id"]) for i in as_json] == [("export-orders", "0c5f3e4a-msg-id"),
                                                                 ("nightly", manual)]


def test_the_table_comes_from_the_config(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    table = make_lock_table("from-config")
    assert sqsjkr_lock(table, "export-orders", "e1")
    cfg = write(tmp_path, job_rule(), sqsjkr={"lockTable": table})
    res = cli("-c", cfg, "locks", "--sqsjkr", "--format", "json")
    assert res.code == 0, res.err
    assert [i["lock_id"] for i in json.loads(res.out)] == ["export-orders"]


def test_a_table_of_another_layout_is_refused(aws: str, cli: Callable[..., Result]) -> None:
    client("dynamodb").create_table(TableName="other", BillingMode="PAY_PER_REQUEST",
                                    KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
                                    AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}])
    res = cli("locks", "--sqsjkr", "--table", "other")
    assert res.code == 1 and "not an sqsjkr lock table" in res.err


def test_release_shows_the_item_then_deletes_it(aws: str, cli: Callable[..., Result]) -> None:
    table = make_lock_table()
    assert sqsjkr_lock(table, "export-orders", "dead-worker-event")
    res = cli("locks", "release", "export-orders", "--sqsjkr", "--table", table, "--yes")
    assert res.code == 0, res.err
    assert "dead-worker-event" in res.err and "released lock export-orders" in res.err
    assert "Item" not in client("dynamodb").get_item(TableName=table, Key={"Id": {"S": "export-orders"},
                                                                            "Type": {"S": "lock"}})
    # A worker can take it again.
    assert sqsjkr_lock(table, "export-orders", "next-event")


def test_release_of_a_missing_lock_says_so(aws: str, cli: Callable[..., Result]) -> None:
    table = make_lock_table()
    res = cli("locks", "release", "nope", "--sqsjkr", "--table", table, "--yes")
    assert res.code == 1 and "nothing to release" in res.err


def test_release_without_yes_on_a_pipe_is_refused(aws: str, cli: Callable[..., Result]) -> None:
    table = make_lock_table()
    assert sqsjkr_lock(table, "export-orders", "e")
    res = cli("locks", "release", "export-orders", "--sqsjkr", "--table", table)
    assert res.code == 1 and "--yes" in res.err
    assert client("dynamodb").get_item(TableName=table, Key={"Id": {"S": "export-orders"},
                                                             "Type": {"S": "lock"}}).get("Item")
