"""The `history:` resources, managed like an owned rule: desired, read live, planned, applied, pruned.

Per region that has schedules:
- a log group (`history.logGroup`) with its retention (`history.retentionDays`), tagged with the
  ecschedule:tracking-id;
- a CloudWatch Logs resource policy that lets EventBridge write to it (the console adds one by itself;
  the API does not);
- an EventBridge rule `ecsched-history-<trackingId>` on the default bus, with the pattern
  {"source":["aws.ecs"],"detail-type":["ECS Task State Change"],"detail":{"clusterArn":[...],
  "lastStatus":["STOPPED"]}} and the log group as its one target. It is tagged with the tracking id
  (ownership) and `ecsched:purpose=history`, and targets no cluster, so schedule pruning never sees it.

The engine calls `desired`, `read`, `plan`, `apply` (and `stale` + `plan_prune` for --prune). A rule or
log group ecsched does not own is a conflict: never changed, never deleted. Pruning keeps the log group
(it holds the history) unless asked to delete it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from ecsched.arns import Account
from ecsched.insight.settings import History
from ecsched.model import TRACKING_TAG, Schedule

PURPOSE_TAG = "ecsched:purpose"
PURPOSE = "history"
RULE_PREFIX = "ecsched-history-"
TARGET_ID = "ecsched-history"
DESCRIPTION = "ecsched: stopped ECS tasks to the history log group (ecsched history, ecsched status)"
Action = Literal["create", "update", "delete", "noop", "conflict"]
Resource = Literal["log-group", "policy", "rule"]


@dataclass(frozen=True)
class Desired:
    region: str
    tracking_id: str
    rule_name: str
    rule_arn: str
    pattern: str  # compact JSON
    log_group: str
    log_group_arn: str
    retention_days: int | None
    policy_name: str
    policy: str  # compact JSON


@dataclass(frozen=True)
class Live:
    rule: dict[str, Any] | None = None  # DescribeRule
    rule_tags: dict[str, str] | None = None
    targets: tuple[dict[str, Any], ...] = ()
    log_group: dict[str, Any] | None = None  # DescribeLogGroups entry
    log_group_tags: dict[str, str] | None = None
    policy: str | None = None


@dataclass(frozen=True)
class Change:
    action: Action
    resource: Resource
    name: str
    region: str
    fields: tuple[tuple[str, Any, Any], ...] = ()  # (field, before, after)
    message: str = ""


def _compact(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def rule_name(tracking_id: str) -> str:
    return (RULE_PREFIX + re.sub(r"[^0-9A-Za-z_.-]", "-", tracking_id))[:64]


def desired(hist: History, schedules: list[Schedule], account: Account) -> list[Desired]:
    """One set of resources per region, covering every cluster the region's schedules run in."""
    by_region: dict[str, list[Schedule]] = {}
    for s in schedules:
        by_region.setdefault(s.region, []).append(s)
    out = []
    for region, group in sorted(by_region.items()):
        tracking = sorted({s.tracking_id for s in group})[0]
        name = rule_name(tracking)
        rule_arn = f"arn:{account.partition}:events:{region}:{account.id}:rule/{name}"
        lg_arn = f"arn:{account.partition}:logs:{region}:{account.id}:log-group:{hist.log_group}"
        pattern = {"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"],
                   "detail": {"clusterArn": sorted({s.target.cluster_arn for s in group}), "lastStatus": ["STOPPED"]}}
        policy = {"Version": "2012-10-17", "Statement": [{
            "Sid": "EcschedHistory", "Effect": "Allow",
            "Principal": {"Service": ["delivery.logs.amazonaws.com", "events.amazonaws.com"]},
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{lg_arn}:*",
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]}
        out.append(Desired(region, tracking, name, rule_arn, _compact(pattern), hist.log_group, lg_arn,
                           hist.retention_days, name, _compact(policy)))
    return out


# --- live ----------------------------------------------------------------------------------------


def _not_found(e: Exception) -> bool:
    code = getattr(e, "response", {}).get("Error", {}).get("Code", "")
    return code in ("ResourceNotFoundException", "ResourceNotFound")


def read(aws: Any, d: Desired) -> Live:
    events, logs = aws.client("events", d.region), aws.client("logs", d.region)
    rule = tags = None
    targets: tuple[dict[str, Any], ...] = ()
    try:
        rule = events.describe_rule(Name=d.rule_name)
    except Exception as e:
        if not _not_found(e):
            raise
    if rule is not None:
        tags = {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags", [])}
        targets = tuple(t for page in events.get_paginator("list_targets_by_rule").paginate(Rule=d.rule_name)
                        for t in page.get("Targets", []))
    group = next((g for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=d.log_group)
                  for g in page.get("logGroups", []) if g["logGroupName"] == d.log_group), None)
    group_tags = logs.list_tags_for_resource(resourceArn=d.log_group_arn).get("tags", {}) if group else None
    policy = next((p["policyDocument"] for p in logs.describe_resource_policies().get("resourcePolicies", [])
                   if p["policyName"] == d.policy_name), None)
    return Live(rule, tags, targets, group, group_tags, policy)


# --- plan ----------------------------------------------------------------------------------------


def _owned(tags: dict[str, str] | None, d: Desired) -> bool:
    return bool(tags) and tags.get(TRACKING_TAG) == d.tracking_id  # type: ignore[union-attr]


def _diff(pairs: list[tuple[str, Any, Any]]) -> tuple[tuple[str, Any, Any], ...]:
    return tuple((f, a, b) for f, a, b in pairs if a != b)


def plan(d: Desired, live: Live) -> list[Change]:
    """Changes in the order they must be applied: log group, policy, rule."""
    out: list[Change] = []
    if live.log_group is None:
        out.append(Change("create", "log-group", d.log_group, d.region, (("retentionDays", None, d.retention_days),)))
    elif not _owned(live.log_group_tags, d):
        out.append(Change("conflict", "log-group", d.log_group, d.region, message=(
            f"log group {d.log_group} exists and is not ecsched's (no {TRACKING_TAG}={d.tracking_id} tag): choose "
            f"another history.logGroup, or tag it to adopt it")))
    else:
        f = _diff([("retentionDays", live.log_group.get("retentionInDays"), d.retention_days)])
        out.append(Change("update" if f else "noop", "log-group", d.log_group, d.region, f))
    before = json.loads(live.policy) if live.policy else None
    after = json.loads(d.policy)
    action: Action = "create" if before is None else ("noop" if _compact(before) == _compact(after) else "update")
    out.append(Change(action, "policy", d.policy_name, d.region,
                      (("policyDocument", before, after),) if action != "noop" else ()))
    want_target = {"Id": TARGET_ID, "Arn": d.log_group_arn}
    if live.rule is None:
        out.append(Change("create", "rule", d.rule_name, d.region,
                          (("EventPattern", None, json.loads(d.pattern)), ("Targets", None, [want_target]))))
    elif not _owned(live.rule_tags, d):
        out.append(Change("conflict", "rule", d.rule_name, d.region, message=(
            f"rule {d.rule_name} exists and is not ecsched's (no {TRACKING_TAG}={d.tracking_id} tag); left alone")))
    else:
        pattern = json.loads(live.rule.get("EventPattern") or "null")
        targets = [{"Id": t.get("Id"), "Arn": t.get("Arn")} for t in live.targets]
        f = _diff([("EventPattern", pattern, json.loads(d.pattern)), ("State", live.rule.get("State"), "ENABLED"),
                   ("Description", live.rule.get("Description", ""), DESCRIPTION),
                   ("Targets", targets, [want_target])])
        out.append(Change("update" if f else "noop", "rule", d.rule_name, d.region, f))
    return out


# --- apply ---------------------------------------------------------------------------------------


class Conflict(Exception):
    pass


def apply(aws: Any, d: Desired, changes: list[Change]) -> list[Change]:
    """Carry out `changes` (from `plan`); returns those that did something. Conflicts stop it first."""
    conflicts = [c.message for c in changes if c.action == "conflict"]
    if conflicts:
        raise Conflict("\n".join(conflicts))
    events, logs = aws.client("events", d.region), aws.client("logs", d.region)
    tags = {TRACKING_TAG: d.tracking_id, PURPOSE_TAG: PURPOSE}
    done = []
    for c in changes:
        if c.action == "noop":
            continue
        if c.resource == "log-group":
            if c.action == "create":
                logs.create_log_group(logGroupName=d.log_group, tags=tags)
            if d.retention_days is None:
                if c.action == "update":
                    logs.delete_retention_policy(logGroupName=d.log_group)
            else:
                logs.put_retention_policy(logGroupName=d.log_group, retentionInDays=d.retention_days)
        elif c.resource == "policy":
            logs.put_resource_policy(policyName=d.policy_name, policyDocument=d.policy)
        else:
            events.put_rule(Name=d.rule_name, EventPattern=d.pattern, State="ENABLED", Description=DESCRIPTION,
                            **({"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
                               if c.action == "create" else {}))
            resp = events.put_targets(Rule=d.rule_name, Targets=[{"Id": TARGET_ID, "Arn": d.log_group_arn}])
            if resp.get("FailedEntryCount"):
                raise RuntimeError(f"PutTargets on {d.rule_name} failed: {resp.get('FailedEntries')}")
            before = next((b for f, b, _ in c.fields if f == "Targets"), None) or []
            extra = [t["Id"] for t in before if t.get("Id") != TARGET_ID]
            if extra:  # a target someone added by hand to our rule: the file says one target
                events.remove_targets(Rule=d.rule_name, Ids=extra)
        done.append(c)
    return done


# --- prune ---------------------------------------------------------------------------------------


def stale(aws: Any, region: str, tracking_id: str, keep: set[str]) -> list[str]:
    """History rules of this tracking id that are not in `keep` (e.g. `history:` was removed)."""
    events = aws.client("events", region)
    out = []
    for page in events.get_paginator("list_rules").paginate(NamePrefix=RULE_PREFIX):
        for r in page.get("Rules", []):
            if not r["Name"].startswith(RULE_PREFIX) or r["Name"] in keep:
                continue
            tags = {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=r["Arn"]).get("Tags", [])}
            if tags.get(TRACKING_TAG) == tracking_id and tags.get(PURPOSE_TAG) == PURPOSE:
                out.append(r["Name"])
    return out


def plan_prune(region: str, names: list[str], log_group: str | None = None) -> list[Change]:
    out = [Change("delete", "rule", n, region) for n in names]
    out += [Change("delete", "policy", n, region) for n in names]
    if log_group:
        out.append(Change("delete", "log-group", log_group, region))
    return out


def apply_prune(aws: Any, changes: list[Change]) -> None:
    for c in changes:
        events, logs = aws.client("events", c.region), aws.client("logs", c.region)
        if c.resource == "rule":
            ids = [t["Id"] for page in events.get_paginator("list_targets_by_rule").paginate(Rule=c.name)
                   for t in page.get("Targets", [])]
            if ids:
                events.remove_targets(Rule=c.name, Ids=ids)
            events.delete_rule(Name=c.name)
        elif c.resource == "policy":
            try:
                logs.delete_resource_policy(policyName=c.name)
            except Exception as e:
                if not _not_found(e):
                    raise
        else:
            logs.delete_log_group(logGroupName=c.name)


def describe(c: Change) -> str:
    """One line per change, for diff output: `+ rule ecsched-history-api (us-east-1): EventPattern ...`."""
    sign = {"create": "+", "update": "~", "delete": "-", "noop": " ", "conflict": "!"}[c.action]
    head = f"{sign} history {c.resource} {c.name} ({c.region})"
    if c.message:
        return f"{head}: {c.message}"
    fields = "; ".join(f"{f}: {_short(a)} -> {_short(b)}" for f, a, b in c.fields)
    return f"{head}: {fields}" if fields else head


def _short(v: Any) -> str:
    text = v if isinstance(v, str) else json.dumps(v, sort_keys=True)
    return text if len(text) <= 120 else text[:119] + "…"


# --- one call each for the engine ----------------------------------------------------------------


@dataclass(frozen=True)
class HistoryPlan:
    """Everything `diff` shows and `apply` does for `history:`; `changes` in the order they run."""

    desired: tuple[Desired, ...]
    changes: tuple[tuple[Desired | None, Change], ...]  # None: a prune (no desired resource)

    @property
    def has_changes(self) -> bool:
        return any(c.action != "noop" for _, c in self.changes)

    @property
    def conflicts(self) -> list[str]:
        return [c.message for _, c in self.changes if c.action == "conflict"]

    def lines(self, verbose: bool = False) -> list[str]:
        return [describe(c) for _, c in self.changes if verbose or c.action != "noop"]


def plan_history(aws: Any, hist: History | None, schedules: list[Schedule], account: Account, *,
                 prune: bool = False) -> HistoryPlan:
    """Desired vs live for every region; with `prune`, also the history rules of these schedules' tracking
    ids that are no longer wanted (`history:` removed)."""
    wanted = desired(hist, schedules, account) if hist else []
    out: list[tuple[Desired | None, Change]] = []
    for d in wanted:
        out += [(d, c) for c in plan(d, read(aws, d))]
    if prune:
        keep = {d.rule_name for d in wanted}
        for region, tracking in sorted({(s.region, s.tracking_id) for s in schedules}):
            names = stale(aws, region, tracking, keep)
            out += [(None, c) for c in plan_prune(region, names)]
    return HistoryPlan(tuple(wanted), tuple(out))


def apply_history(aws: Any, hp: HistoryPlan) -> list[Change]:
    """Apply a HistoryPlan: refuses (Conflict) before any write when something is not ecsched's."""
    if hp.conflicts:
        raise Conflict("\n".join(hp.conflicts))
    done: list[Change] = []
    for d in hp.desired:
        done += apply(aws, d, [c for dd, c in hp.changes if dd is d])
    pruned = [c for dd, c in hp.changes if dd is None]
    apply_prune(aws, pruned)
    return done + pruned
