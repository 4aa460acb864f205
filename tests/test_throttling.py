"""ThrottlingException is retried with backoff and never reaches the user, unless retries run out.

Through bench/quota_server.py: moto over HTTP behind a layer that answers a real ThrottlingException
(HTTP 400, `{"__type":"ThrottlingException"}`; `Throttling` in XML for STS's query protocol).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench.fixtures import Limits, QuotaServer, quota_aws, quota_server, write_config
from tests.conftest import Result

__all__ = ["quota_aws", "quota_server"]


def seed(srv: QuotaServer, cli: Callable[..., Result], tmp_path: Path, n: int) -> str:
    path = str(write_config(tmp_path / "ecsched.yaml", n))
    assert cli("-c", path, "apply", "--quota", "0").code == 0
    srv.layer.reset()
    return path


def no_throttling_message(res: Result) -> None:
    assert "Throttling" not in res.err and "Rate exceeded" not in res.err, res.err


def test_throttling_is_retried_and_never_reaches_the_user(quota_aws: QuotaServer, cli: Callable[..., Result],
                                                          tmp_path: Path) -> None:
    path = seed(quota_aws, cli, tmp_path, 30)
    quota_aws.layer.limits = Limits(latency=0.0, rate=10.0, burst=10.0)
    # No client-side pacing: eight readers run straight into the quota.
    res = cli("-c", path, "diff", "--exit-code", "--quota", "0", "--parallel", "8")
    assert res.code == 0, res.out + res.err
    no_throttling_message(res)
    assert sum(quota_aws.layer.throttled.values()) > 0  # it was throttled, and retried
    # Every rule was read in the end: the throttled attempts came on top.
    ok = {k: quota_aws.layer.calls[k] - quota_aws.layer.throttled[k] for k in quota_aws.layer.calls}
    assert ok["events:ListTargetsByRule"] == 30
    assert ok["events:ListTagsForResource"] == 30


def test_throttled_sts_query_protocol_is_retried(quota_aws: QuotaServer, cli: Callable[..., Result],
                                                 tmp_path: Path) -> None:
    path = seed(quota_aws, cli, tmp_path, 2)
    # An empty bucket that refills slowly: the first GetCallerIdentity is always throttled.
    quota_aws.layer.per_action["sts:GetCallerIdentity"] = Limits(latency=0.0, rate=4.0, burst=0.0)
    res = cli("-c", path, "diff", "--exit-code")
    assert res.code == 0, res.out + res.err
    no_throttling_message(res)
    assert quota_aws.layer.throttled["sts:GetCallerIdentity"] >= 1
    assert quota_aws.layer.calls["sts:GetCallerIdentity"] == quota_aws.layer.throttled["sts:GetCallerIdentity"] + 1


def test_exhausted_retries_surface_as_one_clear_error(quota_aws: QuotaServer, cli: Callable[..., Result],
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = seed(quota_aws, cli, tmp_path, 1)
    quota_aws.layer.per_action["events:ListTargetsByRule"] = Limits(latency=0.0, rate=0.0, burst=0.0)  # always
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    res = cli("-c", path, "diff")
    assert res.code == 1
    assert "ListTargetsByRule failed: ThrottlingException: Rate exceeded" in res.err
    assert "Traceback" not in res.err
    # max_attempts=2: one call and one retry, in the bulk read and once more when the rules it left are
    # read one by one; then the rule is reported, not read again.
    assert quota_aws.layer.calls["events:ListTargetsByRule"] == 4
    assert "rule job-00000: could not read its live state, so it is not in the plan" in res.err


def test_apply_rides_out_throttling_on_writes(quota_aws: QuotaServer, cli: Callable[..., Result],
                                              tmp_path: Path) -> None:
    seed(quota_aws, cli, tmp_path, 20)
    changed = str(write_config(tmp_path / "v2.yaml", 20, revision=2))
    quota_aws.layer.per_action["events:PutTargets"] = Limits(latency=0.0, rate=8.0, burst=4.0)
    res = cli("-c", changed, "apply", "--quota", "0", "--parallel", "8")
    assert res.code == 0, res.err
    no_throttling_message(res)
    assert quota_aws.layer.throttled["events:PutTargets"] > 0
    quota_aws.layer.per_action.clear()
    assert cli("-c", changed, "diff", "--exit-code").code == 0


def test_workflow_apply_reports_each_rule_and_a_failure_stops_only_its_rule(
        quota_aws: QuotaServer, cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sync.apply (the streaming apply): every change gets a result, in plan order; a write that
    stays throttled fails its own rule only, in one sentence, and the next apply converges."""
    import argparse

    from ecsched import sync
    from ecsched.context import Context

    seed(quota_aws, cli, tmp_path, 12)
    changed = str(write_config(tmp_path / "v2.yaml", 12, revision=2))
    # TagResource for one rule is always throttled; AWS_MAX_ATTEMPTS=1 makes that final at once.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    quota_aws.layer.per_action["events:TagResource"] = Limits(latency=0.0, rate=0.0, burst=11.0)
    args = argparse.Namespace(config=[changed], region=None, profile=None, ext_str=None, ext_code=None,
                              quota=None, parallel=4, changed_since=None)
    seen: list[str] = []
    ctx = Context.from_args(args)
    planned, results = sync.apply(ctx.source(), sync.SyncOptions(parallel=4), ctx,
                                  on_result=lambda r: seen.append(r[0].name))
    assert [c.action for c in planned.plan.changes] == ["update"] * 12
    assert [r[0].name for r in results] == [f"job-{i:05d}" for i in range(12)]  # plan order
    assert sorted(seen) == [r[0].name for r in results]  # reported as each completed
    failed = [r for r in results if r[2]]
    assert len(failed) == 1
    assert failed[0][2] == "TagResource failed: ThrottlingException: Rate exceeded"
    assert all(r[1] == ["PutTargets", "TagResource"] for r in results if not r[2])
    quota_aws.layer.per_action.clear()
    monkeypatch.delenv("AWS_MAX_ATTEMPTS")
    assert cli("-c", changed, "apply").code == 0
    assert cli("-c", changed, "diff", "--exit-code").code == 0
