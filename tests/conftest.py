"""Shared fixtures. Tests talk to a real moto server over HTTP (never patched boto3).

- `moto_url`: one ThreadedMotoServer on 127.0.0.1 per test session.
- `aws`: resets the server (POST /moto-api/reset) and points boto3 at it through AWS_ENDPOINT_URL,
  with dummy credentials. Every test that touches AWS takes this fixture.
- `cli`: runs `ecsched ...` in-process and returns (exit code, stdout, stderr).
"""

from __future__ import annotations

import os
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ACCOUNT = "123456789012"  # moto's account
REGION = "us-east-1"
COMPAT = Path(__file__).resolve().parents[1].parent / "shared" / "compat" / "ecschedule"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def moto_reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).read()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    moto_reset(moto_url)
    for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return moto_url


def client(service: str, region: str = REGION) -> Any:
    import boto3

    return boto3.client(service, region_name=region)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts every AWS operation ecsched makes, by observing botocore's events (boto3 is not patched)."""
    from ecsched.aws import Aws

    seen: Counter[str] = Counter()
    original = Aws.client

    def counting(self: Aws, service: str, region: str | None = None) -> Any:
        c = original(self, service, region)
        if not getattr(c, "_ecsched_counted", False):
            c.meta.events.register("before-call.*.*", lambda model, **_: seen.update([model.name]))
            c._ecsched_counted = True
        return c

    monkeypatch.setattr(Aws, "client", counting)
    yield seen


def count_of(calls: Counter[str], operations: set[str]) -> int:
    return sum(n for op, n in calls.items() if op in operations)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """`cli("-c", path, "diff")`: run ecsched in-process, like a user would, and capture its output."""
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*argv: str) -> Result:
        from ecsched.cli import main

        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as e:  # argparse errors
            code = int(e.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def seed_ecs(cluster: str = "api", families: tuple[str, ...] = ("task1",), region: str = REGION) -> dict[str, Any]:
    """A FARGATE cluster and task definitions (awslogs configured), as a real account would have them."""
    ecs = client("ecs", region)
    logs = client("logs", region)
    ecs.create_cluster(clusterName=cluster)
    out: dict[str, Any] = {"cluster": cluster, "taskdefs": {}}
    for fam in families:
        group = f"/ecs/{fam}"
        try:
            logs.create_log_group(logGroupName=group)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        td = ecs.register_task_definition(
            family=fam, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{
                "name": "app", "image": "php:8.3-cli", "memory": 512, "essential": True,
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": group, "awslogs-region": region, "awslogs-stream-prefix": "ecs"}},
            }],
        )
        out["taskdefs"][fam] = td["taskDefinition"]["taskDefinitionArn"]
    ec2 = client("ec2", region)
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    out["subnets"] = [s["SubnetId"] for s in subnets]
    out["security_group"] = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    return out
