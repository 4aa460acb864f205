"""GetMetricData: 500 queries per call, pages followed, datapoints per rule and metric."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ecsched.insight import metrics
from tests.conftest import client


def test_chunks_of_500_queries_against_moto(aws: str, calls: Any) -> None:
    from ecsched.aws import Aws

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    client("cloudwatch").put_metric_data(Namespace="AWS/Events", MetricData=[
        {"MetricName": "TriggeredRules", "Dimensions": [{"Name": "RuleName", "Value": "rule-169"}],
         "Timestamp": now - timedelta(minutes=3), "Value": 1}])
    cw = Aws(region="us-east-1").client("cloudwatch")
    calls.clear()
    got = metrics.fetch(cw, [f"rule-{i:03d}" for i in range(170)], now - timedelta(minutes=10), now)
    assert calls["GetMetricData"] == 2  # 510 queries
    assert [v for _, v in got["rule-169"]["TriggeredRules"]] == [1.0]
    assert got["rule-000"]["TriggeredRules"] == [] and metrics.latest(got["rule-000"]) is None
    assert metrics.latest(got["rule-169"]) is not None


def test_pages_are_followed() -> None:
    # moto answers GetMetricData in one page whatever its size, so the second page comes from a Stubber.
    import boto3
    from botocore.stub import ANY, Stubber

    cw = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    t0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    with Stubber(cw) as stub:
        stub.add_response("get_metric_data", {"NextToken": "p2", "MetricDataResults": [
            {"Id": "m0_0", "Timestamps": [t0], "Values": [1.0], "StatusCode": "PartialData"}]},
            {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": "TimestampAscending"})
        stub.add_response("get_metric_data", {"MetricDataResults": [
            {"Id": "m0_0", "Timestamps": [t0 + timedelta(minutes=5)], "Values": [2.0], "StatusCode": "Complete"},
            {"Id": "m0_2", "Timestamps": [t0], "Values": [1.0], "StatusCode": "Complete"}]},
            {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": "TimestampAscending",
             "NextToken": "p2"})
        got = metrics.fetch(cw, ["nightly"], t0 - timedelta(hours=1), t0 + timedelta(hours=1))
    assert got["nightly"]["TriggeredRules"] == [(t0, 1.0), (t0 + timedelta(minutes=5), 2.0)]
    assert got["nightly"]["FailedInvocations"] == [(t0, 1.0)] and got["nightly"]["Invocations"] == []
    assert metrics.between(got["nightly"]["TriggeredRules"], t0, t0 + timedelta(minutes=4)) == 1.0


def test_period_grows_with_the_window() -> None:
    t = datetime(2026, 12, 2, tzinfo=UTC)
    assert metrics.period_for(t - timedelta(hours=6), t) == 60
    assert metrics.period_for(t - timedelta(hours=7), t) == 300
