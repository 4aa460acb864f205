"""The RunTask request EventBridge sends for a target (the same parameters, camelCase), with the user's
adjustments from the command line."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ecsched.model import EcsTarget, dedupe_overrides, overrides
from ecsched.run.codes import NotStarted
from ecsched.run.taskdef import TaskDefinitionInfo

_STARTED_BY_BAD = re.compile(r"[^A-Za-z0-9\-/_]")


@dataclass
class Adjustments:
    """What the user changes on the command line. Nothing here: exactly the scheduled run."""

    task_definition_arn: str | None = None
    count: int | None = None
    container: str | None = None
    command: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def touches_container(self) -> bool:
        return self.command is not None or bool(self.env)


def started_by(rule: str) -> str:
    """RunTask `startedBy` naming ecsched and the rule: ≤128 characters of [A-Za-z0-9-/_]."""
    return _STARTED_BY_BAD.sub("_", f"ecsched/{rule}")[:128]


def target_container(target: EcsTarget, adj: Adjustments, td: TaskDefinitionInfo | None) -> str | None:
    """The container that --command and --env apply to: --container, else the first container override,
    else the task definition's first essential container."""
    if adj.container:
        return adj.container
    if target.container_overrides:
        return target.container_overrides[0].name
    return td.main_container() if td else None


def build_request(target: EcsTarget, *, rule: str, adj: Adjustments | None = None,
                  container: str | None = None) -> dict[str, Any]:
    """The RunTask request EventBridge sends for `target`, with the user's adjustments applied to
    `container`. No clientToken: `start` adds one per run."""
    adj = adj or Adjustments()
    req: dict[str, Any] = {
        "cluster": target.cluster_arn,
        "taskDefinition": adj.task_definition_arn or target.task_definition_arn,
        "count": adj.count if adj.count is not None else target.task_count,
    }
    if target.capacity_provider_strategy:
        req["capacityProviderStrategy"] = [
            {"capacityProvider": c.capacity_provider, "base": c.base, "weight": c.weight}
            for c in target.capacity_provider_strategy
        ]
    elif target.launch_type:
        req["launchType"] = target.launch_type
    if target.platform_version:
        req["platformVersion"] = target.platform_version
    if target.group:
        req["group"] = target.group
    if target.network:
        vpc: dict[str, Any] = {"subnets": list(target.network.subnets)}
        if target.network.security_groups:
            vpc["securityGroups"] = list(target.network.security_groups)
        vpc["assignPublicIp"] = target.network.assign_public_ip
        req["networkConfiguration"] = {"awsvpcConfiguration": vpc}
    if target.placement_constraints:
        req["placementConstraints"] = [
            {"type": c.type, **({"expression": c.expression} if c.expression else {})}
            for c in target.placement_constraints
        ]
    if target.placement_strategy:
        req["placementStrategy"] = [
            {"type": s.type, **({"field": s.field} if s.field else {})} for s in target.placement_strategy
        ]
    # A dedupe rule's containers get what `ecsched lock` reads, as EventBridge would pass it.
    scheduled = dedupe_overrides(target, rule, manual_scheduled_time()) if target.dedupe else overrides(target)
    ov = apply_adjustments(scheduled, adj, container)
    if ov:
        req["overrides"] = ov
    if target.propagate_tags:
        req["propagateTags"] = target.propagate_tags
    if target.tags:
        req["tags"] = [{"key": k, "value": v} for k, v in target.tags]
    req["enableECSManagedTags"] = target.enable_ecs_managed_tags
    req["enableExecuteCommand"] = target.enable_execute_command
    req["startedBy"] = started_by(rule)
    return req


def manual_scheduled_time(now: datetime | None = None) -> str:
    """The "scheduled time" of a manual run of a dedupe rule: its own, so `ecsched lock` never skips it as
    a duplicate delivery of a scheduled one."""
    return (now or datetime.now(UTC)).strftime("manual-%Y-%m-%dT%H:%M:%SZ")


def apply_adjustments(ov: dict[str, Any], adj: Adjustments, container: str | None) -> dict[str, Any]:
    """--command and --env on top of the scheduled overrides (a new dict; `ov` is untouched)."""
    ov = copy.deepcopy(ov)
    if not adj.touches_container:
        return ov
    if not container:
        raise NotStarted("cannot tell which container --command/--env are for: pass --container NAME")
    cos: list[dict[str, Any]] = ov.setdefault("containerOverrides", [])
    item = next((c for c in cos if c.get("name") == container), None)
    if item is None:
        item = {"name": container}
        cos.append(item)
    if adj.command is not None:
        item["command"] = list(adj.command)
    if adj.env:
        env = {e["name"]: e["value"] for e in item.get("environment") or []}
        env.update(adj.env)
        item["environment"] = [{"name": k, "value": v} for k, v in env.items()]
    return ov
