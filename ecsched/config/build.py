"""A validated config file becomes canonical `Schedule`s: names become ARNs here, once, and every
default is made explicit (see ecsched.model)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ecsched import arns, expressions
from ecsched.arns import Account
from ecsched.config.loader import ConfigFile
from ecsched.errors import ConfigError, Problem
from ecsched.model import (
    CapacityProviderItem,
    ContainerOverride,
    EcsTarget,
    Location,
    Network,
    PlacementConstraint,
    PlacementStrategy,
    RetryPolicy,
    Schedule,
    overrides_of,
)
from ecsched.ownership import cluster_name, tracking_id_of


def env_value(v: Any) -> str:
    """Environment values as ecschedule (Go) writes them: true/false, numbers as written."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def container_overrides(r: dict[str, Any]) -> tuple[ContainerOverride, ...]:
    out = []
    for co in r.get("containerOverrides") or []:
        env = co.get("environment") or {}
        cmd = co.get("command")
        out.append(ContainerOverride(
            name=str(co["name"]),
            command=tuple(str(c) for c in cmd) if cmd else None,
            environment=tuple(sorted((str(k), env_value(v)) for k, v in env.items())),
            cpu=co.get("cpu"), memory=co.get("memory"), memory_reservation=co.get("memoryReservation"),
        ))
    return tuple(out)


def _task_override(r: dict[str, Any], key: str) -> str | None:
    v = (r.get("taskOverride") or {}).get(key)
    return None if v is None else str(v)


def target_overrides(r: dict[str, Any]) -> dict[str, Any]:
    """The RunTask overrides of a raw rule, for size checks before any ARN is known."""
    return overrides_of(container_overrides(r), _task_override(r, "cpu"), _task_override(r, "memory"))


def default_schedule_group(tracking_id: str) -> str:
    """`ecsched-<trackingId>`, made a valid group name (a trackingId may be a cluster ARN)."""
    return re.sub(r"[^0-9A-Za-z_.-]", "-", f"ecsched-{tracking_id}")[:64]


def flexible_window(value: Any) -> int | None:
    """`off` (or absent) is None; otherwise 1-1440 minutes. ValueError with a sentence when neither.

    YAML 1.1 reads a bare `off` as false, so false is `off` too.
    """
    if value is None or value is False or (isinstance(value, str) and value.strip().lower() == "off"):
        return None
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        raise ValueError(f"flexibleTimeWindow must be `off` or a number of minutes (1-1440), not `{value}`")
    minutes = int(value)
    if not 1 <= minutes <= 1440:
        raise ValueError(f"flexibleTimeWindow {minutes} is out of range: `off`, or 1-1440 minutes")
    return minutes


def build_rule(f: ConfigFile, i: int, account: Account, default_region: str | None) -> Schedule:
    top = f.data
    r: dict[str, Any] = top["rules"][i]
    name = str(r["name"])
    where = f.where(("rules", i))

    def setting(key: str) -> Any:
        return r.get(key) if r.get(key) not in (None, "") else top.get(key)

    region = setting("region") or default_region
    if not region:
        raise ConfigError([Problem("no region: set `region:` in the file, pass --region, or set AWS_REGION",
                                   rule=name, **where)])
    cluster = setting("cluster")
    if not cluster:
        raise ConfigError([Problem("no cluster: set `cluster:` at the top level or on the rule", rule=name, **where)])
    # Exactly the tag ecschedule writes (see ecsched.ownership): an ARN stays an ARN, a rule-level cluster
    # does not change it.
    tracking_id = tracking_id_of(top, r)

    cps = tuple(CapacityProviderItem(str(c["capacityProvider"]), int(c.get("base") or 0), int(c.get("weight") or 0))
                for c in r.get("capacityProviderStrategy") or [])
    vpc = (r.get("network_configuration") or {}).get("aws_vpc_configuration")
    network = None
    if vpc:
        network = Network(subnets=tuple(sorted(vpc.get("subnets") or [])),
                          security_groups=tuple(sorted(vpc.get("security_groups") or [])),
                          assign_public_ip=vpc.get("assign_public_ip") or "DISABLED")
    retry = r.get("retryPolicy")
    dlq = (r.get("dead_letter_config") or {}).get("sqs")
    target = EcsTarget(
        target_id=str(r.get("targetId") or name),
        cluster_arn=arns.cluster_arn(str(cluster), account, region),
        role_arn=arns.role_arn(setting("role"), account),
        task_definition_arn=arns.task_definition_arn(str(r["taskDefinition"]), account, region),
        task_count=int(r.get("taskCount") or 1),
        launch_type=None if cps else (r.get("launch_type") or None),
        capacity_provider_strategy=cps,
        platform_version=r.get("platform_version") or None,
        group=r.get("group") or None,
        network=network,
        propagate_tags=r.get("propagateTags") or None,
        enable_execute_command=bool(r.get("enableExecuteCommand")),
        enable_ecs_managed_tags=bool(r.get("enableECSManagedTags")),
        placement_constraints=tuple(PlacementConstraint(c["type"], c.get("expression"))
                                    for c in r.get("placementConstraints") or []),
        placement_strategy=tuple(PlacementStrategy(s["type"], s.get("field"))
                                 for s in r.get("placementStrategy") or []),
        tags=tuple(sorted((str(k), str(v)) for k, v in (r.get("tags") or {}).items())),
        container_overrides=container_overrides(r),
        task_cpu=_task_override(r, "cpu"),
        task_memory=_task_override(r, "memory"),
        dead_letter_arn=arns.sqs_arn(str(dlq), account, region) if dlq else None,
        retry_policy=RetryPolicy(retry.get("maximumRetryAttempts"), retry.get("maximumEventAgeInSeconds"))
        if retry else None,
        dedupe=bool(r.get("dedupe")),
    )
    backend = setting("backend") or "rules"
    tz = setting("timezone")
    expr = expressions.parse(str(r["scheduleExpression"]), allow_at=(backend == "scheduler"))
    if backend != "scheduler":
        local_expression = None
        if tz and str(tz) != "UTC":
            local_expression = f"{expr.text} {tz}"
            expr = expressions.to_utc_cron(expr, str(tz))
        return Schedule(
            name=name, expression=expr.text, target=target, region=region,
            description=str(r.get("description") or ""), enabled=not r.get("disabled"), backend="rules",
            tracking_id=tracking_id, source=Location(f.path, where.get("line")), local_expression=local_expression,
        )
    return _scheduler_rule(f, i, r, setting, expr.text, str(tz or "UTC"), target, region, tracking_id)


def _scheduler_rule(f: ConfigFile, i: int, r: dict[str, Any], setting: Any, expression: str, tz: str,
                    target: EcsTarget, region: str, tracking_id: str) -> Schedule:
    """The EventBridge Scheduler form: AWS's defaults made explicit the way the backend reads them back."""
    from ecsched.dates import effective_start, format_date, parse_date
    from ecsched.model import normalize_retry

    name = str(r["name"])

    def fail(message: str, key: str) -> ConfigError:
        return ConfigError([Problem(message, rule=name, **f.where(("rules", i, key)))])

    if target.dedupe and not target.container_overrides:
        raise fail("dedupe needs containerOverrides naming the container that runs `ecsched lock` (the "
                   "scheduled time is passed to it as ECSCHED_SCHEDULED_TIME)", "dedupe")
    try:
        flex = flexible_window(r.get("flexibleTimeWindow"))
    except ValueError as e:
        raise fail(str(e), "flexibleTimeWindow") from None
    dates: dict[str, str | None] = {}
    for key in ("startDate", "endDate"):
        value = r.get(key)
        try:
            dates[key] = format_date(parse_date(value, tz)) if value not in (None, "") else None
        except ValueError as e:
            raise fail(f"{key}: {e}", key) from None
    if dates["startDate"] and dates["endDate"] and dates["endDate"] <= dates["startDate"]:
        raise fail(f"endDate {dates['endDate']} is not after startDate {dates['startDate']}", "endDate")
    action = r.get("actionAfterCompletion")
    return Schedule(
        name=name,
        expression=expression,
        # Scheduler targets have no id: the schedule's name stands in, so `targetId` has no effect.
        target=replace(target, target_id=name, retry_policy=normalize_retry(target.retry_policy)),
        region=region,
        description=str(r.get("description") or ""),
        enabled=not r.get("disabled"),
        backend="scheduler",
        timezone=tz,
        flexible_window_minutes=flex,
        start_date=effective_start(dates["startDate"]),
        end_date=dates["endDate"],
        action_after_completion=None if action in (None, "", "NONE") else str(action),
        # The cluster's name, not its ARN: one group name for both spellings of one owner.
        schedule_group=str(setting("scheduleGroup")
                           or default_schedule_group(cluster_name(tracking_id or target.cluster_arn))),
        tracking_id=tracking_id,
        source=Location(f.path, f.where(("rules", i)).get("line")),
    )


def build_file(f: ConfigFile, account: Account, default_region: str | None = None) -> list[Schedule]:
    return [build_rule(f, i, account, default_region) for i in range(len(f.data.get("rules") or []))]
