"""The benchmark's throttling server (bench/quota_server.py) as pytest fixtures: moto on loopback behind a
layer that adds latency, a per-action quota answering ThrottlingException, and call counts.

    from bench.fixtures import quota_aws, quota_server   # in a test module; then take `quota_aws`
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_scale import write_config  # noqa: E402
from bench.quota_server import Limits, QuotaServer  # noqa: E402

__all__ = ["Limits", "QuotaServer", "quota_aws", "quota_server", "write_config"]

REGION = "us-east-1"


@pytest.fixture(scope="module")
def quota_server() -> Iterator[QuotaServer]:
    with QuotaServer(latency=0.0, rate=None, port=0) as srv:
        yield srv


@pytest.fixture
def quota_aws(quota_server: QuotaServer, monkeypatch: pytest.MonkeyPatch) -> QuotaServer:
    """A clean moto behind the layer (no latency, no quota until a test sets them); boto3 points at it."""
    quota_server.reset_moto()
    quota_server.layer.limits = Limits(latency=0.0, rate=None, burst=0.0)
    quota_server.layer.per_action.clear()
    for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
              "ECSCHED_QUOTA", "ECSCHED_PARALLEL"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", quota_server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    return quota_server
