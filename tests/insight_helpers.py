"""Builders for the insight tests: configs, tasks started as EventBridge/Scheduler start them, history
events in the shape EventBridge delivers them, and metrics."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import ACCOUNT, REGION, client

CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/api"
LOG_GROUP = "/ecsched/history"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def daily_cron_at(t: datetime) -> str:
    """A daily UTC cron whose last tick is `t` (rounded down to the minute)."""
    return f"cron({t.minute} {t.hour} * * ? *)"


def write_config(tmp: Path, rules: list[dict[str, Any]], *, history: bool = False, top: str = "") -> str:
    lines = [f"region: {REGION}", "cluster: api", "role: ecsEventsRole", top]
    if history:
        lines += ["history:", f"  logGroup: {LOG_GROUP}", "  retentionDays: 30"]
    lines.append("rules:")
    for r in rules:
        lines.append(f"  - name: {r['name']}")
        for k, v in r.items():
            if k != "name":
                lines.append(f"    {k}: {v}")
    path = tmp / "ecsched.yaml"
    path.write_text("\n".join(x for x in lines if x) + "\n", encoding="utf-8")
    return str(path)


def run_task(seed: dict[str, Any], started_by: str, family: str = "task1", command: list[str] | None = None,
             count: int = 1) -> list[str]:
    """RunTask with startedBy cut at 36 characters, as ECS stores what EventBridge/Scheduler pass."""
    ecs = client("ecs")
    kwargs: dict[str, Any] = {}
    if command:
        kwargs["overrides"] = {"containerOverrides": [{"name": "app", "command": command}]}
    resp = ecs.run_task(cluster="api", taskDefinition=family, launchType="FARGATE", startedBy=started_by[:36],
                        count=count, networkConfiguration={"awsvpcConfiguration": {
                            "subnets": seed["subnets"][:1], "securityGroups": [seed["security_group"]]}}, **kwargs)
    return [t["taskArn"] for t in resp["tasks"]]


def detail(rule: str, *, created: datetime, stopped: datetime | None, exit_code: int | None = 0,
           version: int = 3, family: str = "task1", prefix: str = "events-rule/", task_id: str | None = None,
           stop_code: str = "EssentialContainerExited", reason: str = "Essential container in task exited",
           pull: float = 12.0) -> dict[str, Any]:
    """The `detail` of an ECS Task State Change event for a stopped task."""
    tid = task_id or uuid.uuid4().hex
    started = created + timedelta(seconds=30)
    iso = lambda t: t.astimezone(UTC).isoformat().replace("+00:00", "Z")  # noqa: E731
    return {
        "taskArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/api/{tid}", "clusterArn": CLUSTER_ARN,
        "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:1",
        "startedBy": (prefix + rule)[:36], "group": f"family:{family}", "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED", "stopCode": stop_code, "stoppedReason": reason, "version": version,
        "containers": [{"name": "app", "lastStatus": "STOPPED", **({"exitCode": exit_code} if exit_code is not None
                                                                  else {})}],
        "createdAt": iso(created), "pullStartedAt": iso(created + timedelta(seconds=5)),
        "pullStoppedAt": iso(created + timedelta(seconds=5 + pull)), "startedAt": iso(started),
        **({"stoppedAt": iso(stopped)} if stopped else {}),
        "overrides": {"containerOverrides": [{"name": "app"}]}, "launchType": "FARGATE",
    }


def put_history(details: list[dict[str, Any]], group: str = LOG_GROUP) -> None:
    """Each detail wrapped as EventBridge delivers it, logged in the order given (the order of delivery)."""
    from ecsched.insight.events import event

    logs = client("logs")
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    stream = uuid.uuid4().hex
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    base = int((now() - timedelta(minutes=len(details) + 1)).timestamp() * 1000)
    entries = [{"timestamp": base + i * 1000,
                "message": json.dumps(event(d, account=ACCOUNT, region=REGION, time=str(d.get("stoppedAt")),
                                            event_id=str(uuid.uuid4())))} for i, d in enumerate(details)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=entries)


def put_metric(rule: str, metric: str, at: datetime, value: float = 1.0) -> None:
    client("cloudwatch").put_metric_data(Namespace="AWS/Events", MetricData=[{
        "MetricName": metric, "Dimensions": [{"Name": "RuleName", "Value": rule}], "Timestamp": at, "Value": value}])


def status_json(cli: Any, config: str, *args: str) -> tuple[int, dict[str, Any]]:
    res = cli("-c", config, "status", "--format", "json", "--tz", "UTC", *args)
    assert res.code in (0, 2), res.err
    return res.code, json.loads(res.out)


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in doc["schedules"]}
