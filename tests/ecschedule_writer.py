"""ecschedule's own write path, for tests: what `ecschedule apply` sends for a config, call by call.

Transcribed from Songmu/ecschedule v0.19 (rule.go `applyInternal`, `PutRuleInput`, `PutTargetsInput`,
`TagResourceInput`, `target`, `ecsParameters`; config.go `LoadConfig`; rule.go `mergeBaseConfig`):
PutRule (State from `disabled`, Description always, RoleArn), PutTargets (one target: Input is the Go
`json.Marshal` of the task override, `{"containerOverrides":null}` when there is none), then TagResource
with `ecschedule:tracking-id` = the rule's trackingId, else the file's, else the file's top-level
`cluster` exactly as written (loaded before any rule-level value is merged in).
`tagged=False` replays ecschedule before v0.10, which wrote no tag.
"""

from __future__ import annotations

import json
from typing import Any

DEFAULT_ROLE = "ecsEventsRole"


def go_json(value: Any) -> str:
    """encoding/json's output: compact, non-ASCII as is, and <, >, & escaped for HTML."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def tracking_id(top: dict[str, Any], rule: dict[str, Any]) -> str:
    return str(rule.get("trackingId") or top.get("trackingId") or top.get("cluster") or "")


def _setting(top: dict[str, Any], rule: dict[str, Any], key: str) -> Any:
    return rule.get(key) or top.get(key)


def target(top: dict[str, Any], rule: dict[str, Any], account: str) -> dict[str, Any]:
    region = _setting(top, rule, "region")
    cluster = str(_setting(top, rule, "cluster"))
    role = str(_setting(top, rule, "role") or DEFAULT_ROLE)
    taskdef = str(rule["taskDefinition"])
    ecs: dict[str, Any] = {
        "TaskDefinitionArn": taskdef if taskdef.startswith("arn:")
        else f"arn:aws:ecs:{region}:{account}:task-definition/{taskdef}",
        "TaskCount": max(1, int(rule.get("taskCount") or 0)),
    }
    if rule.get("group"):
        ecs["Group"] = rule["group"]
    if rule.get("launch_type"):
        ecs["LaunchType"] = rule["launch_type"]
    if rule.get("capacityProviderStrategy"):
        ecs["CapacityProviderStrategy"] = [{"capacityProvider": c["capacityProvider"], "base": c.get("base", 0),
                                            "weight": c.get("weight", 0)} for c in rule["capacityProviderStrategy"]]
    if rule.get("platform_version"):
        ecs["PlatformVersion"] = rule["platform_version"]
    if rule.get("propagateTags") is not None:
        ecs["PropagateTags"] = rule["propagateTags"]
    vpc = (rule.get("network_configuration") or {}).get("aws_vpc_configuration")
    if vpc is not None:
        conf: dict[str, Any] = {"Subnets": list(vpc.get("subnets") or [])}
        if vpc.get("security_groups"):
            conf["SecurityGroups"] = list(vpc["security_groups"])
        if vpc.get("assign_public_ip"):
            conf["AssignPublicIp"] = vpc["assign_public_ip"]
        ecs["NetworkConfiguration"] = {"awsvpcConfiguration": conf}
    override: dict[str, Any] = {}  # taskOverrideJSON: cpu, memory (omitempty), containerOverrides (always)
    for key in ("cpu", "memory"):
        if (rule.get("taskOverride") or {}).get(key) is not None:
            override[key] = str(rule["taskOverride"][key])
    cos = []
    for co in rule.get("containerOverrides") or []:
        item: dict[str, Any] = {"name": co["name"]}
        if co.get("command"):
            item["command"] = [str(c) for c in co["command"]]
        if co.get("environment"):
            item["environment"] = [{"name": k, "value": str(v)} for k, v in co["environment"].items()]
        for key in ("cpu", "memory", "memoryReservation"):
            if co.get(key) is not None:
                item[key] = int(co[key])
        cos.append(item)
    override["containerOverrides"] = cos or None
    out: dict[str, Any] = {
        "Id": str(rule.get("targetId") or rule["name"]),
        "Arn": cluster if cluster.startswith("arn:") else f"arn:aws:ecs:{region}:{account}:cluster/{cluster}",
        "RoleArn": role if role.startswith("arn:") else f"arn:aws:iam::{account}:role/{role}",
        "EcsParameters": ecs,
        "Input": go_json(override),
    }
    dlq = (rule.get("dead_letter_config") or {}).get("sqs")
    if dlq:
        out["DeadLetterConfig"] = {"Arn": dlq if dlq.startswith("arn:") else f"arn:aws:sqs:{region}:{account}:{dlq}"}
    return out


def apply(events: Any, top: dict[str, Any], account: str, *, tagged: bool = True) -> list[str]:
    """Write every rule of the config `top` as `ecschedule apply -all` does. Returns the calls made."""
    calls: list[str] = []
    for rule in top["rules"]:
        region = _setting(top, rule, "region")
        role = str(_setting(top, rule, "role") or DEFAULT_ROLE)
        events.put_rule(Name=rule["name"], Description=str(rule.get("description") or ""),
                        RoleArn=role if role.startswith("arn:") else f"arn:aws:iam::{account}:role/{role}",
                        ScheduleExpression=rule["scheduleExpression"],
                        State="DISABLED" if rule.get("disabled") else "ENABLED")
        events.put_targets(Rule=rule["name"], Targets=[target(top, rule, account)])
        calls += ["PutRule", "PutTargets"]
        if tagged:
            events.tag_resource(ResourceARN=f"arn:aws:events:{region}:{account}:rule/{rule['name']}",
                                Tags=[{"Key": "ecschedule:tracking-id", "Value": tracking_id(top, rule)}])
            calls.append("TagResource")
    return calls
