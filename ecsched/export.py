"""A Schedule back into the file's own key names (ecschedule's), for diffs, plans and `dump`. Model layer:
the pure plan uses it, so it imports no config code (masking loads the secrets registry only when asked).

Defaults are left out on both sides, so a diff shows only what differs. `short=True` (dump) turns
ARNs back into the names a person writes, only where they resolve to the same ARN.
"""

from __future__ import annotations

from typing import Any

from ecsched import arns
from ecsched.arns import Account
from ecsched.model import Schedule


def schedule_to_config(s: Schedule, *, short: Account | None = None, mask: bool = True) -> dict[str, Any]:
    t = s.target
    def name(arn: str) -> str:
        return arns.short(arn, short, s.region) if short else arn

    def secret(v: str) -> str:
        # A SecureString (or tfstate sensitive value) used outside `environment` is masked too.
        if not mask:
            return v
        from ecsched.config.secrets import MASK, is_sensitive_value

        return MASK if is_sensitive_value(v) else v

    out: dict[str, Any] = {"name": s.name}
    if s.description:
        out["description"] = secret(s.description)
    out["scheduleExpression"] = s.expression
    if not s.enabled:
        out["disabled"] = True
    if t.target_id != s.name:
        out["targetId"] = t.target_id
    if not short:
        out["cluster"] = t.cluster_arn
    out["taskDefinition"] = name(t.task_definition_arn)
    if t.task_count != 1:
        out["taskCount"] = t.task_count
    if t.task_cpu is not None or t.task_memory is not None:
        out["taskOverride"] = {k: v for k, v in (("cpu", t.task_cpu), ("memory", t.task_memory)) if v is not None}
    if t.container_overrides:
        cos = []
        for co in t.container_overrides:
            item: dict[str, Any] = {"name": co.name}
            if co.command is not None:
                item["command"] = [secret(c) for c in co.command]
            if co.environment:
                env = dict(co.environment)
                item["environment"] = _mask_env(env) if mask else env
            for key, value in (("cpu", co.cpu), ("memory", co.memory), ("memoryReservation", co.memory_reservation)):
                if value is not None:
                    item[key] = value
            cos.append(item)
        out["containerOverrides"] = cos
    out["role"] = name(t.role_arn)
    if t.group:
        out["group"] = t.group
    if t.capacity_provider_strategy:
        out["capacityProviderStrategy"] = [
            {"capacityProvider": c.capacity_provider, "base": c.base, "weight": c.weight}
            for c in t.capacity_provider_strategy]
    if t.launch_type:
        out["launch_type"] = t.launch_type
    if t.platform_version:
        out["platform_version"] = t.platform_version
    if t.network:
        vpc: dict[str, Any] = {"subnets": list(t.network.subnets)}
        if t.network.security_groups:
            vpc["security_groups"] = list(t.network.security_groups)
        vpc["assign_public_ip"] = t.network.assign_public_ip
        out["network_configuration"] = {"aws_vpc_configuration": vpc}
    if t.dead_letter_arn:
        out["dead_letter_config"] = {"sqs": name(t.dead_letter_arn)}
    if t.propagate_tags:
        out["propagateTags"] = t.propagate_tags
    if t.retry_policy:
        rp: dict[str, int] = {k: v for k, v in (("maximumRetryAttempts", t.retry_policy.maximum_retry_attempts),
                                ("maximumEventAgeInSeconds", t.retry_policy.maximum_event_age_in_seconds))
              if v is not None}
        if rp:
            out["retryPolicy"] = rp
    if t.enable_execute_command:
        out["enableExecuteCommand"] = True
    if t.enable_ecs_managed_tags:
        out["enableECSManagedTags"] = True
    if t.placement_constraints:
        out["placementConstraints"] = [{k: v for k, v in (("type", c.type), ("expression", c.expression)) if v}
                                       for c in t.placement_constraints]
    if t.placement_strategy:
        out["placementStrategy"] = [{k: v for k, v in (("type", p.type), ("field", p.field)) if v}
                                    for p in t.placement_strategy]
    if t.tags:
        out["tags"] = dict(t.tags)
    if t.dedupe:
        out["dedupe"] = True
    if s.backend != "rules":
        out["backend"] = s.backend
        if s.timezone and s.timezone != "UTC":
            out["timezone"] = s.timezone
        if s.flexible_window_minutes:
            out["flexibleTimeWindow"] = s.flexible_window_minutes
        for key, text in (("startDate", s.start_date), ("endDate", s.end_date),
                          ("actionAfterCompletion", s.action_after_completion), ("scheduleGroup", s.schedule_group)):
            if text:
                out[key] = text
    return out


def _mask_env(env: dict[str, str]) -> dict[str, Any]:
    from ecsched.config.secrets import mask_env

    return mask_env(env)
