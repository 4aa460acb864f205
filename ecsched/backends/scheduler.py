"""EventBridge Scheduler: read live schedules into the model, and apply plan changes.

Ownership: a schedule cannot be tagged, so ecsched owns schedule *groups*. A group is ours when its
`ecschedule:tracking-id` tag is set; a schedule's tracking id is its group's tag. ecsched creates its group
on demand (moto answers HTTP 500 for a schedule in a missing group) and never writes into another group.

Reading costs: ceil(groups / 100) ListScheduleGroups pages, one ListTagsForResource per group, the
ListSchedules pages of each ecsched group, then one GetSchedule per schedule in scope, run concurrently.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from ecsched import expressions
from ecsched.aws import DEFAULT_PARALLEL, Aws
from ecsched.backends.base import BaseBackend
from ecsched.backends.ecs import ecs_parameters, target_from_aws
from ecsched.dates import effective_start, format_date, parse_date
from ecsched.errors import AwsError, EcschedError
from ecsched.model import (
    DEDUPE_ENV,
    DEFAULT_EVENT_AGE,
    DEFAULT_RETRY_ATTEMPTS,
    TRACKING_TAG,
    Live,
    RetryPolicy,
    Schedule,
    dedupe_overrides,
    normalize_retry,
    overrides,
)
from ecsched.ownership import same_owner
from ecsched.plan import Change

# dedupe: Scheduler substitutes this context attribute into the Input at each invocation.
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
DEFAULT_GROUP = "default"


# --- model -> AWS ------------------------------------------------------------------------------


def input_text(s: Schedule) -> str | None:
    """The target's Input: RunTask overrides, with the dedupe variables when asked. None when empty."""
    ov = dedupe_overrides(s.target, s.name, SCHEDULED_TIME) if s.target.dedupe else overrides(s.target)
    if not ov:
        return None
    return json.dumps(ov, separators=(",", ":"), ensure_ascii=False)


def target_params(s: Schedule) -> dict[str, Any]:
    t = s.target
    ecs = ecs_parameters(t, scheduler=True)
    rp = normalize_retry(t.retry_policy) or RetryPolicy(DEFAULT_RETRY_ATTEMPTS, DEFAULT_EVENT_AGE)
    out: dict[str, Any] = {
        "Arn": t.cluster_arn, "RoleArn": t.role_arn, "EcsParameters": ecs,
        # Sent explicitly so AWS holds exactly what the model says.
        "RetryPolicy": {"MaximumRetryAttempts": rp.maximum_retry_attempts,
                        "MaximumEventAgeInSeconds": rp.maximum_event_age_in_seconds},
    }
    text = input_text(s)
    if text is not None:
        out["Input"] = text
    if t.dead_letter_arn:
        out["DeadLetterConfig"] = {"Arn": t.dead_letter_arn}
    return out


def schedule_params(s: Schedule, *, enabled: bool | None = None) -> dict[str, Any]:
    """The FULL schedule: UpdateSchedule resets everything left out to its default."""
    group = s.schedule_group or DEFAULT_GROUP
    params: dict[str, Any] = {
        "Name": s.name,
        "GroupName": group,
        "ScheduleExpression": s.expression,
        "ScheduleExpressionTimezone": s.timezone or "UTC",
        "State": "ENABLED" if (s.enabled if enabled is None else enabled) else "DISABLED",
        "FlexibleTimeWindow": ({"Mode": "FLEXIBLE", "MaximumWindowInMinutes": s.flexible_window_minutes}
                               if s.flexible_window_minutes else {"Mode": "OFF"}),
        "Target": target_params(s),
        "ActionAfterCompletion": s.action_after_completion or "NONE",
    }
    if s.description:
        params["Description"] = s.description
    start = effective_start(s.start_date)
    if start:
        params["StartDate"] = parse_date(start)
    if s.end_date:
        params["EndDate"] = parse_date(s.end_date)
    return params


# --- AWS -> model ------------------------------------------------------------------------------


def _strip_dedupe(data: Any) -> bool:
    """Remove ecsched's dedupe variables from parsed overrides; True when they were there."""
    found = False
    if not isinstance(data, dict):
        return False
    for co in data.get("containerOverrides") or []:
        if not isinstance(co, dict):
            continue
        env = co.get("environment") or []
        if any(e.get("name") == "ECSCHED_SCHEDULED_TIME" and e.get("value") == SCHEDULED_TIME for e in env):
            found = True
        co["environment"] = [e for e in env if e.get("name") not in DEDUPE_ENV]
    return found


def _tags_of(ecs_tags: Any) -> list[dict[str, str]]:
    """Scheduler's `[{"key": k, "value": v}]` as the rules' `[{"Key": k, "Value": v}]`."""
    out = []
    for item in ecs_tags or []:
        if "key" in item:
            out.append({"Key": str(item["key"]), "Value": str(item.get("value", ""))})
        else:  # a plain {k: v} map, as some writers send
            out += [{"Key": str(k), "Value": str(v)} for k, v in item.items()]
    return out


def live_from_aws(raw: dict[str, Any], tracking_id: str | None, region: str) -> Live:
    name = raw["Name"]
    base: dict[str, Any] = {"name": name, "tracking_id": tracking_id, "backend": "scheduler", "region": region,
                            "enabled": raw.get("State", "ENABLED") != "DISABLED", "target_ids": (name,)}
    t = raw.get("Target") or {}
    if "EcsParameters" not in t:
        return Live(schedule=None, unmanaged=f"its target is not an ECS task ({t.get('Arn', '?')})", **base)
    try:
        data = json.loads(t.get("Input") or "{}")
    except json.JSONDecodeError:
        return Live(schedule=None, unmanaged="its Input is not JSON", **base)
    dedupe = _strip_dedupe(data)
    # Same normalisation as a rule target: the model does not care which backend it came from.
    as_rule = {
        "Id": name, "Arn": t["Arn"], "RoleArn": t.get("RoleArn"),
        "EcsParameters": {**t["EcsParameters"], "Tags": _tags_of(t["EcsParameters"].get("Tags"))},
        "Input": json.dumps(data), "DeadLetterConfig": t.get("DeadLetterConfig"),
    }
    try:
        target = target_from_aws(as_rule)
        expr = expressions.parse(raw["ScheduleExpression"], allow_at=True).text
    except (ValueError, KeyError) as e:
        return Live(schedule=None, unmanaged=str(e), **base)
    rp = t.get("RetryPolicy")
    retry = RetryPolicy(rp.get("MaximumRetryAttempts"), rp.get("MaximumEventAgeInSeconds")) if rp else None
    target = replace(target, dedupe=dedupe, retry_policy=normalize_retry(retry))
    window = raw.get("FlexibleTimeWindow") or {}
    action = raw.get("ActionAfterCompletion")
    schedule = Schedule(
        name=name, expression=expr, target=target, region=region,
        description=raw.get("Description") or "",
        enabled=raw.get("State", "ENABLED") != "DISABLED",
        backend="scheduler",
        timezone=raw.get("ScheduleExpressionTimezone") or "UTC",
        flexible_window_minutes=int(window["MaximumWindowInMinutes"])
        if window.get("Mode") == "FLEXIBLE" and window.get("MaximumWindowInMinutes") else None,
        start_date=effective_start(format_date(parse_date(raw["StartDate"]))) if raw.get("StartDate") else None,
        end_date=format_date(parse_date(raw["EndDate"])) if raw.get("EndDate") else None,
        action_after_completion=None if action in (None, "", "NONE") else str(action),
        schedule_group=raw.get("GroupName") or DEFAULT_GROUP,
        tracking_id=tracking_id or "",
    )
    return Live(schedule=schedule, **base)


def update_params_from_raw(raw: dict[str, Any]) -> dict[str, Any]:
    """A GetSchedule answer as a full UpdateSchedule request: keeps even what the model does not hold."""
    keys = ("Name", "GroupName", "ScheduleExpression", "ScheduleExpressionTimezone", "Description", "State",
            "FlexibleTimeWindow", "Target", "ActionAfterCompletion", "KmsKeyArn", "EndDate")
    params = {k: raw[k] for k in keys if raw.get(k) not in (None, "")}
    start = raw.get("StartDate")
    if start and effective_start(format_date(parse_date(start))):
        params["StartDate"] = start
    return params


# --- the backend -------------------------------------------------------------------------------


class SchedulerBackend(BaseBackend):
    name = "scheduler"
    service = "scheduler"

    def __init__(self, aws: Aws, region: str, parallel: int = DEFAULT_PARALLEL) -> None:
        super().__init__(aws, region, parallel)
        self._lock = threading.Lock()
        self._group_tags: dict[str, str | None] | None = None  # every group -> its tracking tag
        self._ready: set[str] = set()  # groups checked (or created) for writing in this run
        self._where: dict[str, str] = {}  # schedule name -> its group, from the last read
        # Report an ecsched rule that still runs a schedule-to-be (apply would run it twice). Off in migrate.
        self.guard_rules = True

    def _tag_of(self, arn: str) -> str | None:
        tags = self.client.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
        return next((t["Value"] for t in tags if t["Key"] == TRACKING_TAG), None)

    def group_tags(self) -> dict[str, str | None]:
        """Every schedule group and its tracking tag (None: not ecsched's). The default group cannot be
        tagged, so it is never ours."""
        if self._group_tags is None:
            groups = [g for g in self._pages("list_schedule_groups", "ScheduleGroups") if g["Name"] != DEFAULT_GROUP]
            tags = self._map(lambda g: self._tag_of(g["Arn"]), groups)
            self._group_tags = {g["Name"]: tag for g, tag in zip(groups, tags, strict=True)}
        return self._group_tags

    def owned_groups(self) -> dict[str, str]:
        return {g: tag for g, tag in self.group_tags().items() if tag}

    def summaries(self, groups: Iterable[str]) -> list[dict[str, Any]]:
        """ListSchedules of these groups (name, group, target ARN, state)."""
        per_group = self._map(lambda g: self._pages("list_schedules", "Schedules", GroupName=g), sorted(groups))
        return [s for page in per_group for s in page]

    def read(self, names: set[str], cluster_arns: set[str], *, prune: bool,
             owners: set[str] | None = None) -> dict[str, Live]:
        """Live schedules for `names` in ecsched's groups, plus, when pruning, every schedule there that
        targets `cluster_arns`. `owners` is not needed: only ecsched's groups are read."""
        owned = self.owned_groups()
        scope: dict[str, dict[str, Any]] = {}
        for s in sorted(self.summaries(owned), key=lambda s: (s["Name"], s["GroupName"])):
            wanted = s["Name"] in names or (prune and (s.get("Target") or {}).get("Arn") in cluster_arns)
            # A name in two of our groups (two trackingIds): the first group by name wins, deterministically.
            if wanted and s["Name"] not in scope:
                scope[s["Name"]] = s
        out = self._get(scope.values(), owned)
        if self.guard_rules and names - set(out):
            out.update(self._rules_still_running(names - set(out)))
        return out

    def read_iter(self, names: set[str], cluster_arns: set[str], *, prune: bool,
                  owners: set[str] | None = None) -> Iterator[Live]:
        yield from self.read(names, cluster_arns, prune=prune).values()

    def _rules_still_running(self, names: set[str]) -> dict[str, Live]:
        """An ecsched rule of the same name as a schedule about to be created: creating the schedule would
        run the task twice, so it is a conflict until `migrate` moves the rule."""
        events = self.aws.client("events", self.region)
        found = [r for page in events.get_paginator("list_rules").paginate() for r in page.get("Rules", [])
                 if r["Name"] in names]

        def one(rule: dict[str, Any]) -> Live | None:
            tags = events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags", [])
            tag = next((t["Value"] for t in tags if t["Key"] == TRACKING_TAG), None)
            if not tag:
                return None  # not ecsched's: it runs whatever it runs, as before
            why = (f"the EventBridge rule {rule['Name']} still runs this task, so a schedule would run it twice: "
                   f"move it with `ecsched migrate --to scheduler --rule {rule['Name']}`")
            # Not untargeted: the plan must report it, not treat it as an unfinished apply.
            return Live(name=rule["Name"], schedule=None, tracking_id=tag, unmanaged=why, backend="scheduler",
                        target_ids=(rule["Name"],), region=self.region)

        return {lv.name: lv for lv in self._map(one, found) if lv is not None}

    def read_groups(self, groups: Iterable[str], cluster_arns: set[str] | None = None) -> dict[str, Live]:
        """Every schedule in `groups` (any group: reading is harmless), optionally only those targeting
        `cluster_arns`. For `dump`."""
        tags = self.group_tags()
        found = [s for s in self.summaries(groups)
                 if cluster_arns is None or (s.get("Target") or {}).get("Arn") in cluster_arns]
        out: dict[str, Live] = {}
        for lv in self._map(lambda s: self._one(s, tags.get(s["GroupName"])), found):
            out.setdefault(lv.name, lv)
        return out

    def _one(self, summary: dict[str, Any], tag: str | None) -> Live:
        raw = self.client.get_schedule(Name=summary["Name"], GroupName=summary["GroupName"])
        return live_from_aws(raw, tag, self.region)

    def _get(self, summaries: Iterable[dict[str, Any]], owned: dict[str, str]) -> dict[str, Live]:
        items = list(summaries)
        for s in items:
            self._where[s["Name"]] = s["GroupName"]
        return {lv.name: lv for lv in self._map(lambda s: self._one(s, owned.get(s["GroupName"])), items)}

    # --- writes ---------------------------------------------------------------------------------

    def ensure_group(self, group: str, tracking_id: str) -> list[str]:
        """Our group, created and tagged if missing. Refuses a group that is not ours."""
        if group == DEFAULT_GROUP:
            raise EcschedError("scheduleGroup `default` cannot be tagged, so ecsched cannot own schedules "
                               "in it: remove `scheduleGroup` (ecsched then uses ecsched-<trackingId>)")
        with self._lock:
            if group in self._ready:
                return []
            calls = []
            try:
                arn = self.client.get_schedule_group(Name=group)["Arn"]
            except self.client.exceptions.ResourceNotFoundException:
                arn = None
            if arn is None:
                # Look before creating: moto's CreateScheduleGroup silently replaces an existing group.
                self.client.create_schedule_group(Name=group, Tags=[{"Key": TRACKING_TAG, "Value": tracking_id}])
                calls.append("CreateScheduleGroup")
            else:
                tag = self._tag_of(arn)
                if not same_owner(tag, tracking_id, self.region):
                    owner = f"it belongs to trackingId `{tag}`" if tag else f"it has no {TRACKING_TAG} tag"
                    raise AwsError(f"schedule group `{group}` is not ecsched's for trackingId `{tracking_id}` "
                                   f"({owner}); ecsched never writes into another group: choose another "
                                   "`scheduleGroup`, or remove it to use the default ecsched-<trackingId>")
            self._ready.add(group)
            if self._group_tags is not None:
                self._group_tags[group] = tracking_id
            return calls

    def apply(self, ch: Change) -> list[str]:
        """Carry out one change. Returns the calls made, in order."""
        c = self.client
        if ch.action == "delete":
            group = (ch.live.schedule_group if ch.live else None) or self._where.get(ch.name) or DEFAULT_GROUP
            c.delete_schedule(Name=ch.name, GroupName=group)
            return ["DeleteSchedule"]
        s = ch.desired
        if s is None or ch.action not in ("create", "update"):
            return []
        if ch.adopt:
            raise AwsError(f"schedule {s.name} is in a group of another trackingId; ecsched does not take over "
                           "schedule groups: give this rule its own `scheduleGroup`")
        self._check_at(s)
        calls = self.ensure_group(s.schedule_group or DEFAULT_GROUP, s.tracking_id)
        live = ch.live
        if ch.action == "update" and live is not None and live.schedule_group != s.schedule_group:
            # Moving groups: old one out first; a moment with no schedule beats one with two (a double run).
            c.delete_schedule(Name=s.name, GroupName=live.schedule_group or DEFAULT_GROUP)
            calls.append("DeleteSchedule")
            c.create_schedule(**schedule_params(s))
            return [*calls, "CreateSchedule"]
        if ch.action == "create":
            c.create_schedule(**schedule_params(s))
            return [*calls, "CreateSchedule"]
        c.update_schedule(**schedule_params(s))
        return [*calls, "UpdateSchedule"]

    def _check_at(self, s: Schedule) -> None:
        expr = expressions.parse(s.expression, allow_at=True)
        if expr.kind == "at" and not expr.next_fire_times(1, tz=s.timezone or "UTC"):
            raise EcschedError(f"{s.expression} in {s.timezone or 'UTC'} has already passed: a one-time schedule "
                               "is not created after its time; remove the rule from the file")

    def group_of(self, name: str) -> str:
        if name not in self._where:
            for s in self.summaries(self.owned_groups()):
                self._where.setdefault(s["Name"], s["GroupName"])
        if name not in self._where:
            raise EcschedError(f"no schedule named {name} in ecsched's schedule groups; run `ecsched apply` first")
        return self._where[name]

    def set_state(self, name: str, enabled: bool, *, fingerprint: str | None = None) -> list[str]:
        """ENABLED/DISABLED, sending the whole live schedule back unchanged otherwise. Schedules cannot be
        tagged, so there is no `fingerprint` to record."""
        group = self.group_of(name)
        raw = self.client.get_schedule(Name=name, GroupName=group)
        params = update_params_from_raw(raw)
        params["State"] = "ENABLED" if enabled else "DISABLED"
        self.client.update_schedule(**params)
        return ["UpdateSchedule"]
