"""`ecsched sandbox` with a config whose plugins read AWS: the emulator starts first, `--s3` and `--ssm`
seed what the plugins read, and other commands then run against it (as real processes)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ecsched.emulator import parse_s3_seed, parse_ssm_seed, region_in
from ecsched.errors import EcschedError
from tests.conftest import Result

STATE = {
    "version": 4, "terraform_version": "1.6.0", "serial": 3, "lineage": "0b6c7e4a", "outputs": {},
    "resources": [{
        "mode": "managed", "type": "aws_ecs_cluster", "name": "batch",
        "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
        "instances": [{"schema_version": 0, "attributes": {
            "name": "batch", "arn": "arn:aws:ecs:ap-northeast-1:123456789012:cluster/batch"}}],
    }],
}

CONFIG = """\
region: ap-northeast-1
cluster: '{{ tfstate "aws_ecs_cluster.batch.name" }}'
role: ecsEventsRole
plugins:
  - name: tfstate
    config:
      url: s3://tfstate-bucket/batch/terraform.tfstate
  - name: ssm
rules:
  - name: nightly
    scheduleExpression: cron(0 3 * * ? *)
    taskDefinition: report
    containerOverrides:
      - name: app
        environment:
          DB_HOST: '{{ ssm "/batch/db-host" }}'
          TOKEN: '{{ ssm "/batch/token" }}'
"""

SEEDS = ["--s3", "s3://tfstate-bucket/batch/terraform.tfstate=./terraform.tfstate",
         "--ssm", "/batch/db-host=db.internal", "--ssm-secure", "/batch/token=s3cr3t"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(NO_COLOR="1", HOME=str(tmp_path), AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "terraform.tfstate").write_text(json.dumps(STATE))
    (tmp_path / "ecsched.yaml").write_text(CONFIG)
    return tmp_path


@pytest.fixture
def sandbox(project: Path) -> Iterator[dict[str, str]]:
    """The sandbox as a process on a free port; yields the environment its export line gives."""
    env = _env(project)
    proc = subprocess.Popen([sys.executable, "-m", "ecsched", "-c", "ecsched.yaml", "sandbox", "--port", "0", *SEEDS],
                            cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"the sandbox exited {proc.wait()}: {proc.stderr.read() if proc.stderr else ''}")
        assert line.startswith("export AWS_ENDPOINT_URL=http://127.0.0.1:"), line
        yield {**env, **dict(re.findall(r"(\w+)=(\S+)", line))}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def ecsched(project: Path, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecsched", "-c", "ecsched.yaml", *argv], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_config_that_reads_s3_and_ssm_runs_against_the_seeded_sandbox(
        project: Path, sandbox: dict[str, str]) -> None:
    assert sandbox["AWS_REGION"] == "ap-northeast-1"
    res = ecsched(project, sandbox, "validate")
    assert res.returncode == 0, res.stderr
    res = ecsched(project, sandbox, "diff", "--exit-code")
    assert res.returncode == 2, res.stderr  # everything to create
    assert "create nightly" in res.stdout and "DB_HOST: db.internal" in res.stdout
    assert "cluster/batch" in res.stdout  # the cluster name came from the state in S3
    assert "s3cr3t" not in res.stdout  # a SecureString stays sensitive
    assert ecsched(project, sandbox, "apply").returncode == 0
    res = ecsched(project, sandbox, "diff", "--exit-code")
    assert res.returncode == 0, res.stdout + res.stderr


def test_without_the_seeds_the_load_fails_with_the_way_to_seed(project: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "ecsched", "-c", "ecsched.yaml", "sandbox", "--port", "0"],
                         cwd=project, env=_env(project), capture_output=True, text=True, timeout=120)
    assert res.returncode == 1
    assert "s3://tfstate-bucket/batch/terraform.tfstate" in res.stderr
    assert "--s3 s3://BUCKET/KEY=FILE" in res.stderr
    assert "Traceback" not in res.stderr


def test_bad_seeds_are_refused_before_anything_starts(project: Path, cli: Callable[..., Result],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    res = cli("-c", "ecsched.yaml", "sandbox", "--s3", "s3://tfstate-bucket/k=./missing.tfstate")
    assert res.code == 1 and "cannot read ./missing.tfstate" in res.err
    res = cli("-c", "ecsched.yaml", "sandbox", "--ssm", "no-value")
    assert res.code == 1 and "--ssm no-value: write NAME=VALUE" in res.err


def test_seed_specs(tmp_path: Path) -> None:
    f = tmp_path / "s"
    f.write_bytes(b"{}")
    seed = parse_s3_seed(f"s3://b-1/env=prod/terraform.tfstate={f}")
    assert (seed.bucket, seed.key, seed.body) == ("b-1", "env=prod/terraform.tfstate", b"{}")
    with pytest.raises(EcschedError, match="write s3://BUCKET/KEY=FILE"):
        parse_s3_seed(f"https://b/k={f}")
    assert parse_ssm_seed("/a/b=x=y", secure=True) == parse_ssm_seed("/a/b=x=y", secure=True)
    assert parse_ssm_seed("/a/b=x=y", secure=True).value == "x=y"


def test_the_region_is_read_from_the_file_before_it_loads(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("cluster: c\nregion: 'eu-west-1'  # Ireland\n")
    assert region_in(str(path)) == "eu-west-1"
    path.write_text('cluster: c\nregion: {{ must_env "REGION" }}\n')
    assert region_in(str(path)) is None
    path.write_text('{\n  "region": "us-west-2",\n  "rules": []\n}\n')
    assert region_in(str(path)) == "us-west-2"
