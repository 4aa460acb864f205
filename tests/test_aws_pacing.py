"""Client-side pacing: a token bucket per API action keeps readers under the quota (counts, not timings)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench.fixtures import Limits, QuotaServer, quota_aws, quota_server, write_config
from ecsched.aws import Aws, Pacer, TokenBucket, quota_from_env, retries
from ecsched.errors import EcschedError
from tests.conftest import Result

__all__ = ["quota_aws", "quota_server"]


class FakeClock:
    """Time that moves only when someone sleeps: the bucket's arithmetic, without waiting."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_hands_out_its_burst_then_one_token_per_interval() -> None:
    clock = FakeClock()
    b = TokenBucket(rate=10, burst=5, clock=clock.time, sleep=clock.sleep)
    for _ in range(5):
        assert b.acquire() == 0
    assert b.delayed == 0
    for _ in range(5):
        b.acquire()
    assert (b.acquired, b.delayed) == (10, 5)
    assert clock.slept == pytest.approx([0.1] * 5)  # one token per 1/rate once the burst is spent


def test_reservations_queue_callers_without_holding_the_lock() -> None:
    clock = FakeClock()
    b = TokenBucket(rate=2, burst=1, clock=clock.time, sleep=clock.sleep)
    # Four callers arrive at once: the first goes now, the others are given later and later turns.
    assert [b.reserve() for _ in range(4)] == pytest.approx([0.0, 0.5, 1.0, 1.5])


def test_a_bucket_refills_while_idle_but_never_beyond_its_burst() -> None:
    clock = FakeClock()
    b = TokenBucket(rate=10, burst=3, clock=clock.time, sleep=clock.sleep)
    for _ in range(3):
        b.acquire()
    clock.now += 60  # a long pause refills three tokens, not 600
    assert [b.reserve() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 0.1])


def test_throttling_backs_off_and_successes_climb_back_to_the_quota() -> None:
    clock = FakeClock()
    b = TokenBucket(rate=50, burst=45, clock=clock.time, sleep=clock.sleep)
    b.on_throttled()
    assert b.rate == pytest.approx(35)
    assert b.reserve() > 0  # the bucket was emptied: the next call waits
    b.on_throttled()
    assert b.rate == pytest.approx(24.5)
    for _ in range(100):
        b.on_success()
    assert b.rate == 50  # never above the quota


def test_pacer_keeps_one_bucket_per_region_service_and_action() -> None:
    p = Pacer(50)
    a = p.bucket(("us-east-1", "events", "ListTargetsByRule"))
    assert a is p.bucket(("us-east-1", "events", "ListTargetsByRule"))
    assert a is not p.bucket(("us-east-1", "events", "ListTagsForResource"))
    assert a is not p.bucket(("eu-west-1", "events", "ListTargetsByRule"))
    assert a is not None and a.burst == pytest.approx(48)  # a little under AWS's burst of 50
    assert Pacer(0).bucket(("us-east-1", "events", "ListRules")) is None  # 0: no pacing


def test_a_new_quota_mid_run_does_not_refill_the_buckets() -> None:
    """Configuring the quota again (early read, then the run) must not hand out a second burst."""
    p = Pacer(20)
    key = ("us-east-1", "events", "ListTargetsByRule")
    b = p.bucket(key)
    assert b is not None
    for _ in range(19):
        b.reserve()
    p.set_quota(20)  # the same quota again: nothing changes
    p.set_quota(15)
    assert p.bucket(key) is b
    assert b.reserve() > 0  # still spent: the next token is in the future
    assert b.rate == 15


def test_quota_and_retry_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECSCHED_QUOTA", raising=False)
    assert quota_from_env() == 50
    monkeypatch.setenv("ECSCHED_QUOTA", "20")
    assert quota_from_env() == 20
    assert quota_from_env("5") == 5  # --quota wins over the environment
    monkeypatch.setenv("ECSCHED_QUOTA", "fast")
    with pytest.raises(EcschedError, match="not a number"):
        quota_from_env()
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    assert retries() == {"mode": "standard", "total_max_attempts": 10}
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "4")
    assert retries() == {"mode": "adaptive", "total_max_attempts": 4}


def seed(srv: QuotaServer, cli: Callable[..., Result], tmp_path: Path, n: int) -> str:
    path = str(write_config(tmp_path / "ecsched.yaml", n))
    assert cli("-c", path, "apply", "--quota", "0").code == 0
    srv.layer.reset()
    return path


def test_paced_readers_stay_under_the_quota(quota_aws: QuotaServer, cli: Callable[..., Result],
                                            tmp_path: Path) -> None:
    path = seed(quota_aws, cli, tmp_path, 60)
    quota_aws.layer.limits = Limits(latency=0.0, rate=20.0, burst=20.0)
    res = cli("-c", path, "diff", "--exit-code", "--quota", "15", "--parallel", "8")
    assert res.code == 0, res.out + res.err
    assert quota_aws.layer.throttled == {}  # paced under the quota: AWS never had to say no
    assert quota_aws.layer.calls["events:ListTargetsByRule"] == 60
    assert quota_aws.layer.calls["events:ListTagsForResource"] == 60
    assert quota_aws.layer.calls["sts:GetCallerIdentity"] == 1


def test_without_pacing_the_same_run_is_throttled(quota_aws: QuotaServer, cli: Callable[..., Result],
                                                  tmp_path: Path) -> None:
    """The counterpart of the test above: the quota is real, and pacing is what keeps us under it."""
    path = seed(quota_aws, cli, tmp_path, 60)
    quota_aws.layer.limits = Limits(latency=0.0, rate=20.0, burst=20.0)
    res = cli("-c", path, "diff", "--exit-code", "--quota", "0", "--parallel", "8")
    assert res.code == 0, res.out + res.err
    assert sum(quota_aws.layer.throttled.values()) > 0


def test_each_attempt_takes_a_token_and_throttling_slows_the_action(quota_aws: QuotaServer,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    quota_aws.layer.per_action["events:ListRules"] = Limits(latency=0.0, rate=4.0, burst=0.0)  # first: throttled
    aws = Aws(region="us-east-1", quota=100)
    events = aws.client("events")
    events.list_rules()
    bucket = aws.pacer.buckets[("us-east-1", "events", "ListRules")]
    assert quota_aws.layer.throttled["events:ListRules"] >= 1
    assert bucket.acquired == quota_aws.layer.calls["events:ListRules"]  # retries are paced too
    assert bucket.throttles == quota_aws.layer.throttled["events:ListRules"]
    assert bucket.rate < 100


def test_a_cancelled_run_sends_nothing_more(quota_aws: QuotaServer) -> None:
    aws = Aws(region="us-east-1")
    events = aws.client("events")
    aws.pacer.cancelled = True
    with pytest.raises(EcschedError, match="not sent"):
        events.list_rules()
    assert quota_aws.layer.calls["events:ListRules"] == 0


def test_an_invalid_config_cancels_the_early_read(quota_aws: QuotaServer, cli: Callable[..., Result],
                                                  tmp_path: Path) -> None:
    """The read starts from a skim before validation; a config that fails validation stops it, and
    nothing is sent once the command has failed."""
    import argparse
    import threading

    from ecsched import sync
    from ecsched.context import Context
    from ecsched.errors import ConfigError

    seed(quota_aws, cli, tmp_path, 60)
    bad = tmp_path / "bad.yaml"
    text = write_config(tmp_path / "ok.yaml", 60).read_text()
    bad.write_text(text.replace("    platform_version: LATEST\n", "    platform_version: LATEST\n    bogus: 1\n"))
    quota_aws.layer.limits = Limits(latency=0.05, rate=None, burst=0.0)
    args = argparse.Namespace(config=[str(bad)], region=None, profile=None, ext_str=None, ext_code=None,
                              quota="20", parallel=8, changed_since=None)
    ctx = Context.from_args(args)
    with pytest.raises(ConfigError, match="bogus"):
        sync.compute(ctx.source(), sync.SyncOptions(parallel=8, quota="20"), ctx)
    assert ctx._aws is not None and ctx._aws.pacer.cancelled
    assert not any(t.name == "ecsched-early-read" and t.is_alive() for t in threading.enumerate())
    # Paced at 20/s, reading all 60 rules takes seconds; validation failed long before.
    assert quota_aws.layer.calls["events:ListTargetsByRule"] < 60
