"""`ecsched.lock.hold`: the lease that `apply`, `migrate` and `disable --now` hold while they write.

Against the moto server; contention with two threads and with two processes."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from lock_helpers.harness import HELPERS, TABLE, assert_one_at_a_time, item, race, wait_for

from ecsched.aws import Aws
from ecsched.errors import EcschedError
from ecsched.lock import LeaseLostError, LockHeldError, Record, hold, state_key
from tests.conftest import client

pytest_plugins = ["lock_helpers.fixtures"]

KEY = state_key("acme-prod", "us-east-1")


def aws_handle() -> Aws:
    return Aws(region="us-east-1")


def test_the_key_names_the_tracking_id_and_the_region() -> None:
    assert state_key("acme-prod", "eu-west-1") == "ecsched/acme-prod/eu-west-1"
    assert state_key("acme-prod", "eu-west-1") != state_key("acme-prod", "us-east-1")


def test_hold_takes_renews_in_the_background_and_releases(table: str) -> None:
    with hold(aws_handle(), TABLE, KEY, wait_timeout=0, lease=1.5, what="apply") as lease:
        held = item(KEY)
        assert held is not None
        assert held["what"]["S"] == "apply" and held["token"]["S"] == lease.token
        assert "@" in held["owner"]["S"]  # user@host:pid
        first = int(held["expires_at"]["N"])
        wait_for("a renewal", lambda: int((item(KEY) or {})["expires_at"]["N"]) > first)
        lease.check()
    assert item(KEY) is None


def test_a_second_holder_waits_then_fails_with_75_naming_the_holder(table: str) -> None:
    seen: list[Record] = []
    with hold(aws_handle(), TABLE, KEY, wait_timeout=0, what="apply") as first:
        with pytest.raises(LockHeldError) as caught, hold(aws_handle(), TABLE, KEY, wait_timeout=0.5, poll=0.1,
                                                         on_wait=seen.append, what="migrate"):
            pytest.fail("the second holder must not get the lease")
        assert caught.value.exit_code == 75
        message = str(caught.value)
        assert f"held by {first.owner} (apply) since 20" in message and "waited" in message
        assert [r.owner for r in seen] == [first.owner]  # told once, with the holder
        assert caught.value.holder.token == first.token
        assert item(KEY)["token"]["S"] == first.token  # type: ignore[index]


def test_no_wait_fails_at_once_without_on_wait(table: str) -> None:
    seen: list[Record] = []
    with hold(aws_handle(), TABLE, KEY, wait_timeout=0), pytest.raises(LockHeldError) as caught, \
            hold(aws_handle(), TABLE, KEY, wait_timeout=0, on_wait=seen.append):
        pass
    assert seen == [] and "waited" not in str(caught.value)


def test_a_waiting_holder_gets_it_once_the_first_releases(table: str) -> None:
    events: list[tuple[str, str, int]] = []
    first_in = threading.Event()

    def first() -> None:
        with hold(aws_handle(), TABLE, KEY, wait_timeout=0):
            events.append(("S", "first", time.time_ns()))
            first_in.set()
            time.sleep(0.6)
            events.append(("E", "first", time.time_ns()))

    thread = threading.Thread(target=first)
    thread.start()
    assert first_in.wait(30)
    waited: list[Record] = []
    with hold(aws_handle(), TABLE, KEY, wait_timeout=30, poll=0.1, on_wait=waited.append):
        events.append(("S", "second", time.time_ns()))
    thread.join()
    assert len(waited) == 1
    starts = {who: t for kind, who, t in events if kind == "S"}
    end_first = next(t for kind, who, t in events if (kind, who) == ("E", "first"))
    assert starts["second"] > end_first


def test_a_lost_lease_makes_check_raise_and_the_release_leaves_the_new_holder(table: str) -> None:
    intruder = {"key": {"S": KEY}, "kind": {"S": "lease"}, "owner": {"S": "intruder"},
                "token": {"S": "intruder-token"}, "acquired_at": {"N": str(time.time())},
                "expires_at": {"N": str(int(time.time()) + 600)}}
    with hold(aws_handle(), TABLE, KEY, wait_timeout=0, lease=1.5) as lease:
        client("dynamodb").put_item(TableName=TABLE, Item=intruder)
        wait_for("the loss to be noticed", lambda: lease.lost is not None)
        with pytest.raises(LeaseLostError, match="taken over by intruder") as caught:
            lease.check()
        assert caught.value.exit_code == 75
    assert item(KEY) == intruder


def test_a_missing_table_is_one_error_with_exit_1(aws: str) -> None:
    with pytest.raises(EcschedError, match="does not exist") as caught, \
            hold(aws_handle(), "no-such-table", KEY, wait_timeout=0):
        pass
    assert caught.value.exit_code == 1 and not isinstance(caught.value, LockHeldError)


def test_two_processes_contending_never_hold_it_together(table: str, aws: str, tmp_path: Path) -> None:
    log = tmp_path / "intervals"
    rounds = 5
    results = race([[sys.executable, str(HELPERS / "holder.py"), TABLE, KEY, str(log), str(i), str(rounds)]
                    for i in range(2)], aws, tmp_path, timeout=120)
    assert [code for _, _, code in results] == [0, 0], [err for _, err, _ in results]
    assert sum(int(out) for out, _, _ in results) > 0, "no contention at all: this run proved nothing"
    assert assert_one_at_a_time(log) == 2 * rounds


def test_hold_rides_out_a_lost_answer_and_failing_renewals(
    table: str, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The acquiring put commits but its answer is lost (botocore retries: the condition fails on our own
    token, which counts as ours); then a third of the renewals fail. The lease stays ours throughout."""
    from tests.fault_server import FaultServer

    with FaultServer(aws, seed=16) as faults:
        monkeypatch.setenv("AWS_ENDPOINT_URL", faults.url)
        faults.add("PutItem", "500-after-commit", times=1)
        faults.add("UpdateItem", "500", rate=0.34)
        with hold(aws_handle(), TABLE, KEY, wait_timeout=0, lease=1.5) as lease:
            wait_for("renewals, two of them failed",
                     lambda: faults.faults["UpdateItem"] >= 2 and faults.calls["UpdateItem"] >= 6)
            lease.check()
            assert item(KEY)["token"]["S"] == lease.token  # type: ignore[index]
        assert faults.faults["PutItem"] == 1
        assert item(KEY) is None
