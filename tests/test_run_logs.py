"""ecsched.run.logs: following CloudWatch Logs streams against the moto server."""

from __future__ import annotations

from typing import Any

from run_helpers import put_logs

from ecsched.aws import Aws
from ecsched.run.logs import LogFollower, LogStream
from tests.conftest import REGION, seed_ecs

TASK = "arn:aws:ecs:us-east-1:123456789012:task/api/0123456789abcdef0123456789abcdef"


def test_log_follower_tails_and_prefixes(aws):
    seed_ecs()
    out: list[str] = []
    warnings: list[str] = []
    streams = [LogStream(TASK, "app", "/ecs/task1", REGION, "ecs/app/1"),
               LogStream(TASK, "web", "/ecs/task1", REGION, "ecs/web/1"),
               LogStream(TASK, "gone", "/no/such/group", REGION, "ecs/gone/1")]
    f = LogFollower(Aws(region=REGION), streams, out.append, warnings.append)
    assert f.poll() == 0  # nothing yet: missing streams and a missing group are normal early on
    put_logs("/ecs/task1", "ecs/app/1", ["a1", "a2"])
    assert f.poll() == 2
    assert f.poll() == 0  # the token stayed the same: nothing new, nothing repeated
    put_logs("/ecs/task1", "ecs/web/1", ["w1"])
    put_logs("/ecs/task1", "ecs/app/1", ["a3"])
    f.poll()
    assert out == ["app | a1", "app | a2", "app | a3", "web | w1"]
    assert warnings == []


def test_log_follower_single_stream_is_not_prefixed_and_pages(aws, monkeypatch):
    from ecsched.run import logs as logs_module

    seed_ecs()
    put_logs("/ecs/task1", "s", [f"line {i}" for i in range(25)])
    out: list[str] = []
    logs = Aws(region=REGION).client("logs")
    real = logs.get_log_events
    monkeypatch.setattr(logs, "get_log_events", lambda **kw: real(limit=10, **kw))  # force several pages

    class OneClient:
        def client(self, service: str, region: str | None = None) -> Any:
            return logs

    monkeypatch.setattr(logs_module, "MAX_LOG_PAGES", 50)
    f = LogFollower(OneClient(), [LogStream(TASK, "app", "/ecs/task1", REGION, "s")], out.append, print)  # type: ignore[arg-type]
    f.poll()
    assert out == [f"line {i}" for i in range(25)]


def test_several_tasks_label_lines_with_container_and_task():
    t1, t2 = TASK, TASK.replace("0123456789abcdef0123", "fedcba98765432100123")
    streams = [LogStream(t1, "app", "/g", REGION, "s1"), LogStream(t2, "app", "/g", REGION, "s2")]
    LogFollower(None, streams, print, print)  # type: ignore[arg-type]
    assert [s.label for s in streams] == ["app/01234567", "app/fedcba98"]
