"""The one EcsParameters <-> model mapping, shared by both backends (a Scheduler target's EcsParameters
mirror a rule target's, except that its Tags are `{"key", "value"}` maps)."""

from __future__ import annotations

import json
from typing import Any

from ecsched.model import (
    DEDUPE_ENV,
    CapacityProviderItem,
    EcsTarget,
    Network,
    PlacementConstraint,
    PlacementStrategy,
    RetryPolicy,
    parse_overrides,
)

# dedupe on rules: EventBridge substitutes the event's scheduled time into the overrides.
DEDUPE_PATHS = {"time": "$.time"}


def ecs_parameters(t: EcsTarget, *, scheduler: bool = False) -> dict[str, Any]:
    ecs: dict[str, Any] = {"TaskDefinitionArn": t.task_definition_arn, "TaskCount": t.task_count}
    if t.launch_type:
        ecs["LaunchType"] = t.launch_type
    if t.capacity_provider_strategy:
        ecs["CapacityProviderStrategy"] = [{"capacityProvider": c.capacity_provider, "base": c.base,
                                            "weight": c.weight} for c in t.capacity_provider_strategy]
    if t.platform_version:
        ecs["PlatformVersion"] = t.platform_version
    if t.group:
        ecs["Group"] = t.group
    if t.network:
        vpc: dict[str, Any] = {"Subnets": list(t.network.subnets), "AssignPublicIp": t.network.assign_public_ip}
        if t.network.security_groups:
            vpc["SecurityGroups"] = list(t.network.security_groups)
        ecs["NetworkConfiguration"] = {"awsvpcConfiguration": vpc}
    if t.propagate_tags:
        ecs["PropagateTags"] = t.propagate_tags
    if t.enable_execute_command:
        ecs["EnableExecuteCommand"] = True
    if t.enable_ecs_managed_tags:
        ecs["EnableECSManagedTags"] = True
    if t.placement_constraints:
        ecs["PlacementConstraints"] = [{k: v for k, v in (("type", c.type), ("expression", c.expression)) if v}
                                       for c in t.placement_constraints]
    if t.placement_strategy:
        ecs["PlacementStrategy"] = [{k: v for k, v in (("type", p.type), ("field", p.field)) if v}
                                    for p in t.placement_strategy]
    if t.tags:
        ecs["Tags"] = ([{"key": k, "value": v} for k, v in t.tags] if scheduler
                       else [{"Key": k, "Value": v} for k, v in t.tags])
    return ecs


def target_from_aws(t: dict[str, Any]) -> EcsTarget:
    """A rule-shaped target (Id, Arn, RoleArn, EcsParameters, Input or InputTransformer, ...) as the model.
    ValueError for a shape ecsched does not write."""
    ecs = t["EcsParameters"]
    dedupe = False
    if "InputTransformer" in t:
        tr = t["InputTransformer"]
        if tr.get("InputPathsMap") != DEDUPE_PATHS:
            raise ValueError("its InputTransformer was not written by ecsched")
        data = json.loads(tr.get("InputTemplate") or "{}")
        for co in data.get("containerOverrides") or []:
            co["environment"] = [e for e in co.get("environment") or [] if e.get("name") not in DEDUPE_ENV]
        dedupe = True
    else:
        try:
            data = json.loads(t.get("Input") or "{}")
        except json.JSONDecodeError:
            raise ValueError("its Input is not JSON") from None
    cos, cpu, memory = parse_overrides(data)
    cps = tuple(CapacityProviderItem(c["capacityProvider"], int(c.get("base") or 0), int(c.get("weight") or 0))
                for c in ecs.get("CapacityProviderStrategy") or [])
    vpc = (ecs.get("NetworkConfiguration") or {}).get("awsvpcConfiguration")
    rp = t.get("RetryPolicy")
    return EcsTarget(
        target_id=t["Id"],
        cluster_arn=t["Arn"],
        role_arn=t.get("RoleArn") or "",
        task_definition_arn=ecs["TaskDefinitionArn"],
        task_count=int(ecs.get("TaskCount") or 1),
        launch_type=None if cps else (ecs.get("LaunchType") or None),
        capacity_provider_strategy=cps,
        platform_version=ecs.get("PlatformVersion") or None,
        group=ecs.get("Group") or None,
        network=Network(subnets=tuple(sorted(vpc.get("Subnets") or [])),
                        security_groups=tuple(sorted(vpc.get("SecurityGroups") or [])),
                        assign_public_ip=vpc.get("AssignPublicIp") or "DISABLED") if vpc else None,
        propagate_tags=ecs.get("PropagateTags") or None,
        enable_execute_command=bool(ecs.get("EnableExecuteCommand")),
        enable_ecs_managed_tags=bool(ecs.get("EnableECSManagedTags")),
        placement_constraints=tuple(PlacementConstraint(c["type"], c.get("expression"))
                                    for c in ecs.get("PlacementConstraints") or []),
        placement_strategy=tuple(PlacementStrategy(p["type"], p.get("field"))
                                 for p in ecs.get("PlacementStrategy") or []),
        tags=tuple(sorted((x["Key"], x["Value"]) for x in ecs.get("Tags") or [])),
        container_overrides=cos,
        task_cpu=cpu,
        task_memory=memory,
        dead_letter_arn=(t.get("DeadLetterConfig") or {}).get("Arn") or None,
        retry_policy=RetryPolicy(rp.get("MaximumRetryAttempts"), rp.get("MaximumEventAgeInSeconds")) if rp else None,
        dedupe=dedupe,
    )
