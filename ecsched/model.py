"""The ONE canonical schedule model. The file (desired) and AWS (live) both become these objects.

Rules for everything in here:
- every AWS default is explicit (task count 1, AssignPublicIp DISABLED, booleans False), so two
  schedules that AWS would run identically compare equal with ``==``;
- lists whose order AWS ignores (subnets, security groups, environment, tags) are sorted;
- names are full ARNs (see ``ecsched.arns``): no side trims or guesses at comparison time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Backend = Literal["rules", "scheduler"]

# Tag that marks a rule as ours; it is ecschedule's own, so rules it created are owned as-is.
TRACKING_TAG = "ecschedule:tracking-id"
# Fingerprint of what ecsched last applied completely, for telling file changes from drift. Written last.
FINGERPRINT_TAG = "ecsched:fingerprint"
# Fingerprint of what an apply is writing, set before its first call and cleared ("") by its last one:
# while set, the live rule is an unfinished apply, not drift.
APPLYING_TAG = "ecsched:applying"


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None


@dataclass(frozen=True)
class ContainerOverride:
    name: str
    command: tuple[str, ...] | None = None
    environment: tuple[tuple[str, str], ...] = ()  # sorted by name
    cpu: int | None = None
    memory: int | None = None
    memory_reservation: int | None = None


@dataclass(frozen=True)
class Network:
    subnets: tuple[str, ...]  # sorted
    security_groups: tuple[str, ...] = ()  # sorted
    assign_public_ip: str = "DISABLED"


@dataclass(frozen=True)
class CapacityProviderItem:
    capacity_provider: str
    base: int = 0
    weight: int = 0


@dataclass(frozen=True)
class RetryPolicy:
    maximum_retry_attempts: int | None = None
    maximum_event_age_in_seconds: int | None = None


# What AWS (and moto) fill in when a schedule has no RetryPolicy: equal to "not set".
DEFAULT_RETRY_ATTEMPTS = 185
DEFAULT_EVENT_AGE = 86_400


def normalize_retry(rp: RetryPolicy | None) -> RetryPolicy | None:
    """Missing members take AWS's defaults; the all-default policy is the same as none."""
    if rp is None:
        return None
    full = RetryPolicy(
        DEFAULT_RETRY_ATTEMPTS if rp.maximum_retry_attempts is None else rp.maximum_retry_attempts,
        DEFAULT_EVENT_AGE if rp.maximum_event_age_in_seconds is None else rp.maximum_event_age_in_seconds,
    )
    return None if full == RetryPolicy(DEFAULT_RETRY_ATTEMPTS, DEFAULT_EVENT_AGE) else full


@dataclass(frozen=True)
class PlacementConstraint:
    type: str
    expression: str | None = None


@dataclass(frozen=True)
class PlacementStrategy:
    type: str
    field: str | None = None


@dataclass(frozen=True)
class EcsTarget:
    target_id: str
    cluster_arn: str
    role_arn: str
    task_definition_arn: str
    task_count: int = 1
    launch_type: str | None = None  # always None when a capacity-provider strategy is given
    capacity_provider_strategy: tuple[CapacityProviderItem, ...] = ()
    platform_version: str | None = None
    group: str | None = None
    network: Network | None = None
    propagate_tags: str | None = None
    enable_execute_command: bool = False
    enable_ecs_managed_tags: bool = False
    placement_constraints: tuple[PlacementConstraint, ...] = ()
    placement_strategy: tuple[PlacementStrategy, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()  # EcsParameters.Tags, sorted
    container_overrides: tuple[ContainerOverride, ...] = ()
    task_cpu: str | None = None
    task_memory: str | None = None
    dead_letter_arn: str | None = None
    retry_policy: RetryPolicy | None = None
    # Pass the scheduled time into the task (InputTransformer), for `ecsched lock` de-duplication.
    dedupe: bool = False


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str  # canonical text, e.g. "cron(0 18 * * ? *)"
    target: EcsTarget
    region: str
    description: str = ""
    enabled: bool = True
    backend: Backend = "rules"
    # EventBridge Scheduler only.
    timezone: str | None = None
    flexible_window_minutes: int | None = None  # None: OFF
    start_date: str | None = None
    end_date: str | None = None
    action_after_completion: str | None = None
    schedule_group: str | None = None
    # Ownership and provenance: not part of what AWS runs, so not part of equality.
    tracking_id: str = field(default="", compare=False)
    # On the rules backend a `timezone:` cron is converted to UTC; the form as written, for display.
    local_expression: str | None = field(default=None, compare=False)
    source: Location | None = field(default=None, compare=False)

    def with_enabled(self, enabled: bool) -> Schedule:
        return replace(self, enabled=enabled)

    def fingerprint(self) -> str:
        """A short, stable hash of the definition, tagged on apply to detect drift later."""
        blob = json.dumps(to_plain(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Live:
    """One live schedule, as a backend read it."""

    name: str
    schedule: Schedule | None  # None when its shape is not one we manage
    tracking_id: str | None  # the ownership tag's value; None: no tag
    fingerprint: str | None = None  # what ecsched last applied completely, if it did
    unmanaged: str | None = None  # why `schedule` is None
    target_ids: tuple[str, ...] = ()
    backend: str = "rules"
    target_arns: tuple[str, ...] = ()  # what its targets point at, for messages
    enabled: bool | None = None  # the rule's state, also when its shape is not one we manage
    applying: str | None = None  # set while an apply that was interrupted had not finished
    region: str = ""

    @property
    def untargeted(self) -> bool:
        """A rule left with no target: an interrupted create or delete (ecsched never leaves one otherwise)."""
        return self.schedule is None and not self.target_ids

    def fingerprint_after(self, enabled: bool) -> str | None:
        """The fingerprint tag to write with a state change made by ecsched (`--now`), so that it does not
        read as drift later. None when there is no record to move, or the rule had already drifted (that
        drift stays visible)."""
        if self.schedule is None or not self.fingerprint or self.schedule.fingerprint() != self.fingerprint:
            return None
        return self.schedule.with_enabled(enabled).fingerprint()


def to_plain(s: Schedule) -> dict[str, Any]:
    """Comparable plain data (no provenance). Stable across runs, used for fingerprints."""
    from dataclasses import asdict

    d = asdict(s)
    for k in ("tracking_id", "source", "local_expression"):
        d.pop(k, None)
    return d


# --- RunTask overrides: the Input JSON of a rule target, and RunTask's `overrides` -------------


def overrides(target: EcsTarget) -> dict[str, Any]:
    """The RunTask `overrides` object this target runs with (camelCase, as ECS takes it)."""
    return overrides_of(target.container_overrides, target.task_cpu, target.task_memory)


def overrides_of(container_overrides: tuple[ContainerOverride, ...], task_cpu: str | None,
                 task_memory: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cos = []
    for co in container_overrides:
        item: dict[str, Any] = {"name": co.name}
        if co.command is not None:
            item["command"] = list(co.command)
        if co.environment:
            item["environment"] = [{"name": k, "value": v} for k, v in co.environment]
        if co.cpu is not None:
            item["cpu"] = co.cpu
        if co.memory is not None:
            item["memory"] = co.memory
        if co.memory_reservation is not None:
            item["memoryReservation"] = co.memory_reservation
        cos.append(item)
    if cos:
        out["containerOverrides"] = cos
    if task_cpu is not None:
        out["cpu"] = task_cpu
    if task_memory is not None:
        out["memory"] = task_memory
    return out


# dedupe: what `ecsched lock` reads in the task to run one scheduled time of a rule at most once.
DEDUPE_ENV = ("ECSCHED_SCHEDULED_TIME", "ECSCHED_RULE")


def dedupe_overrides(target: EcsTarget, rule: str, scheduled_time: str) -> dict[str, Any]:
    """The target's overrides with the dedupe variables in every container override. `scheduled_time` is
    the placeholder the scheduler fills in (`<time>` for rules, a context attribute for Scheduler)."""
    ov = overrides(target)
    for co in ov.get("containerOverrides", []):
        env = [e for e in co.get("environment", []) if e["name"] not in DEDUPE_ENV]
        env += [{"name": "ECSCHED_SCHEDULED_TIME", "value": scheduled_time}, {"name": "ECSCHED_RULE", "value": rule}]
        co["environment"] = env
    return ov


def input_json(target: EcsTarget) -> str:
    """The target's Input: RunTask overrides as compact, deterministic JSON."""
    return json.dumps(overrides(target), separators=(",", ":"), ensure_ascii=False)


def parse_overrides(data: Any) -> tuple[tuple[ContainerOverride, ...], str | None, str | None]:
    """Normalise an overrides object, from any writer (ecschedule writes `{"containerOverrides":null}`).

    Returns (container overrides, task cpu, task memory).
    """
    if not isinstance(data, dict):
        return (), None, None
    cos = []
    for item in data.get("containerOverrides") or []:
        if not isinstance(item, dict):
            continue
        env = item.get("environment") or []
        cmd = item.get("command")
        cos.append(
            ContainerOverride(
                name=str(item.get("name", "")),
                command=tuple(str(c) for c in cmd) if cmd else None,
                environment=tuple(sorted((str(e["name"]), str(e.get("value", ""))) for e in env)),
                cpu=_int_or_none(item.get("cpu")),
                memory=_int_or_none(item.get("memory")),
                memory_reservation=_int_or_none(item.get("memoryReservation")),
            )
        )
    cpu, memory = data.get("cpu"), data.get("memory")
    return tuple(cos), (str(cpu) if cpu is not None else None), (str(memory) if memory is not None else None)


def _int_or_none(v: Any) -> int | None:
    return None if v is None else int(v)
