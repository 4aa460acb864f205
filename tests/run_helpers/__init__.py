"""Helpers shared by the tests of `ecsched run` (tests/test_run_*.py).

- `run_env()`        the body of each test file's `env` fixture: seeded moto, the config, fast polling;
- `write_config()`   a FARGATE rule fed the moto default-VPC subnet and security group through `{{ env }}`;
- `hold_tasks()`     moto's ECS tasks stay RUNNING until released (moto otherwise advances one status per
                     DescribeTasks), so a test decides when the task ends;
- `put_logs()`       write events into moto's CloudWatch Logs, as the awslogs driver would;
- `subprocess_env()` the environment of a real `python -m ecsched` child after the `aws` fixture;
- `Recorder`         an output sink for the engine that keeps what it was told, by kind.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
region: us-east-1
cluster: api
rules:
- name: nightly-report
  description: nightly report
  scheduleExpression: cron(0 3 * * ? *)
  taskDefinition: {family}
  launch_type: FARGATE
  platform_version: 1.4.0
  group: reports
  disabled: true
  network_configuration:
    aws_vpc_configuration:
      subnets:
      - {{{{ env "SUBNET" }}}}
      security_groups:
      - {{{{ env "SG" }}}}
      assign_public_ip: ENABLED
  containerOverrides:
  - name: app
    command: ["php", "report.php"]
    environment:
      MODE: nightly
  taskOverride:
    cpu: "512"
    memory: "1024"
  tags:
    team: data
  propagateTags: TASK_DEFINITION
{extra}"""


def write_config(tmp_path: Path, *, family: str = "task1", extra: str = "") -> Path:
    """ecsched.yaml in tmp_path. It reads $SUBNET and $SG: set them with `subnet_env()`."""
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG.format(family=family, extra=extra))
    return path


def subnet_env(seeded: dict[str, Any]) -> dict[str, str]:
    return {"SUBNET": seeded["subnets"][0], "SG": seeded["security_group"]}


def run_env(aws: str, tmp_path: Path, monkeypatch: Any) -> Iterator[dict[str, Any]]:
    """A seeded moto account (`aws`: the fixture's URL), a config for it, fast polling; tasks are never
    left held. Yields what `seed_ecs` returns plus `config` and `url`."""
    from conftest import seed_ecs

    seeded = seed_ecs()
    for k, v in subnet_env(seeded).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("ECSCHED_POLL_INTERVAL", "0.01")
    seeded["config"] = str(write_config(tmp_path))
    seeded["url"] = aws
    yield seeded
    release(aws)


def _moto_api(url: str, path: str, body: dict[str, Any]) -> None:
    req = urllib.request.Request(f"{url}/moto-api/state-manager/{path}", data=json.dumps(body).encode(),
                                 method="POST")
    urllib.request.urlopen(req).read()


SAFETY_RELEASE = 90.0  # seconds: a held task is let go after this, so a broken ecsched fails, not hangs
_timers: list[threading.Timer] = []


def hold(url: str) -> None:
    """ECS tasks stay in their state (RUNNING) however often they are described, until `release()` or,
    as a safety valve, SAFETY_RELEASE seconds (then the test fails on its assertions instead of hanging)."""
    _moto_api(url, "set-transition", {"model_name": "ecs::task",
                                      "transition": {"progression": "manual", "times": 10**9}})
    timer = threading.Timer(SAFETY_RELEASE, release, [url])
    timer.daemon = True
    _timers.append(timer)
    timer.start()


def release(url: str) -> None:
    """Back to moto's default: one status per DescribeTasks, STOPPED on the 4th."""
    while _timers:
        _timers.pop().cancel()
    _moto_api(url, "unset-transition", {"model_name": "ecs::task"})


@contextmanager
def hold_tasks(url: str) -> Iterator[None]:
    hold(url)
    try:
        yield
    finally:
        release(url)


def put_logs(group: str, stream: str, messages: list[str], region: str = "us-east-1") -> None:
    import boto3

    logs = boto3.client("logs", region_name=region)
    try:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)])


def wait_for_task(cluster: str, started_by: str, region: str = "us-east-1", limit: float = 60) -> str:
    """The ARN of the task ecsched started (polls ListTasks; the limit only guards against a hang)."""
    import boto3

    ecs = boto3.client("ecs", region_name=region)
    end = time.monotonic() + limit
    while time.monotonic() < end:
        arns = ecs.list_tasks(cluster=cluster, startedBy=started_by)["taskArns"]
        if arns:
            return str(arns[0])
        time.sleep(0.05)
    raise AssertionError(f"no task started by {started_by}")


def describe(cluster: str, arn: str, region: str = "us-east-1") -> dict[str, Any]:
    """DescribeTasks without advancing moto's state machine more than once."""
    import boto3

    ecs = boto3.client("ecs", region_name=region)
    return dict(ecs.describe_tasks(cluster=cluster, tasks=[arn], include=["TAGS"])["tasks"][0])


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"NO_COLOR": "1", "ECSCHED_POLL_INTERVAL": "0.05", "PYTHONUNBUFFERED": "1"})
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra or {})
    return env


def ecsched_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "ecsched", *args]


class Recorder:
    """The engine's output sink (ecsched.run.output.Output), recording every call. `live`: as if a status
    line were shown (then status changes are not printed as notes)."""

    def __init__(self, live: bool = False) -> None:
        self.live = live
        self.logs: list[str] = []
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.statuses: list[str] = []
        self.started = self.stopped = 0

    def log(self, line: str) -> None:
        self.logs.append(line)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def error(self, text: str) -> None:
        self.errors.append(text)

    def status(self, text: str) -> None:
        self.statuses.append(text)

    def start(self) -> None:
        self.started += 1

    def stop(self) -> None:
        self.stopped += 1

    @property
    def said(self) -> str:
        """Everything but the log lines, one per line."""
        return "\n".join(self.notes + self.warnings + self.errors)
