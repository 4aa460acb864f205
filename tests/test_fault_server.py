"""The fault layer itself: each mode does what the reliability tests rely on, against the moto server."""

from __future__ import annotations

import pytest

from tests.conftest import client
from tests.fault_server import FaultServer


@pytest.fixture
def faults(aws: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with FaultServer(aws) as fs:
        monkeypatch.setenv("AWS_ENDPOINT_URL", fs.url)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        yield fs


def test_forwards_unfaulted_calls(faults: FaultServer) -> None:
    ev = client("events")
    ev.put_rule(Name="r", ScheduleExpression="rate(1 day)")
    assert [r["Name"] for r in ev.list_rules()["Rules"]] == ["r"]
    assert faults.calls["PutRule"] == 1 and not faults.faults


def test_500_is_not_committed(faults: FaultServer) -> None:
    from botocore.exceptions import ClientError

    faults.add("PutRule", "500", times=1)
    ev = client("events")
    with pytest.raises(ClientError, match="InternalFailure"):
        ev.put_rule(Name="r", ScheduleExpression="rate(1 day)")
    assert ev.list_rules()["Rules"] == []
    ev.put_rule(Name="r", ScheduleExpression="rate(1 day)")  # times=1: the second goes through
    assert faults.faults["PutRule"] == 1


def test_500_after_commit_commits(faults: FaultServer) -> None:
    from botocore.exceptions import ClientError

    faults.add("PutRule", "500-after-commit")
    ev = client("events")
    with pytest.raises(ClientError):
        ev.put_rule(Name="r", ScheduleExpression="rate(1 day)")
    assert [r["Name"] for r in ev.list_rules()["Rules"]] == ["r"]


def test_reset_and_throttle(faults: FaultServer) -> None:
    from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

    ev = client("events")
    faults.add("ListRules", "reset", times=1)
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        ev.list_rules()
    faults.add("DescribeRule", "throttle", times=1)
    with pytest.raises(ClientError, match="Throttling"):
        ev.describe_rule(Name="x")


def test_rate_is_seeded(faults: FaultServer) -> None:
    from botocore.exceptions import ClientError

    faults.add("ListRules", "500", rate=0.5)
    ev = client("events")
    failed = 0
    for _ in range(40):
        try:
            ev.list_rules()
        except ClientError:
            failed += 1
    assert 8 <= failed <= 32 and failed == faults.faults["ListRules"]
