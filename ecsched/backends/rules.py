"""EventBridge rules: read live schedules into the model, and apply plan changes.

Reading costs, for N rules in scope: ceil(all rules / 100) ListRules pages, the ListRuleNamesByTarget
pages for prune candidates, then N ListTargetsByRule and N ListTagsForResource, run concurrently.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from ecsched import expressions
from ecsched.backends import Backend
from ecsched.errors import AwsError
from ecsched.model import (
    DEDUPE_ENV,
    FINGERPRINT_TAG,
    TRACKING_TAG,
    CapacityProviderItem,
    EcsTarget,
    Network,
    PlacementConstraint,
    PlacementStrategy,
    RetryPolicy,
    Schedule,
    dedupe_overrides,
    input_json,
    parse_overrides,
)
from ecsched.plan import Change, Live

# dedupe: EventBridge substitutes the event's scheduled time into the overrides.
DEDUPE_PATHS = {"time": "$.time"}
NO_TARGETS = "it has no targets"
# Up to this many rules in scope (a --changed-since PR), DescribeRule each instead of ListRules pages.
# 3 keeps a full diff of a tiny file within 2N + 2 list pages + 2 calls.
FEW = 3


# --- model -> AWS ------------------------------------------------------------------------------


def put_rule_params(s: Schedule, state: str | None = None) -> dict[str, Any]:
    """The full rule: PutRule resets whatever is left out (State to ENABLED, Description to none)."""
    return {
        "Name": s.name,
        "ScheduleExpression": s.expression,
        "Description": s.description,
        "State": state or ("ENABLED" if s.enabled else "DISABLED"),
    }


def dedupe_template(s: Schedule) -> str:
    return json.dumps(dedupe_overrides(s.target, s.name, "<time>"), separators=(",", ":"), ensure_ascii=False)


def target_params(s: Schedule) -> dict[str, Any]:
    t = s.target
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
        ecs["Tags"] = [{"Key": k, "Value": v} for k, v in t.tags]
    out: dict[str, Any] = {"Id": t.target_id, "Arn": t.cluster_arn, "RoleArn": t.role_arn, "EcsParameters": ecs}
    if t.dedupe:
        out["InputTransformer"] = {"InputPathsMap": dict(DEDUPE_PATHS), "InputTemplate": dedupe_template(s)}
    else:
        out["Input"] = input_json(t)
    if t.dead_letter_arn:
        out["DeadLetterConfig"] = {"Arn": t.dead_letter_arn}
    if t.retry_policy:
        rp = {k: v for k, v in (("MaximumRetryAttempts", t.retry_policy.maximum_retry_attempts),
                                ("MaximumEventAgeInSeconds", t.retry_policy.maximum_event_age_in_seconds))
              if v is not None}
        if rp:
            out["RetryPolicy"] = rp
    return out


# --- AWS -> model ------------------------------------------------------------------------------


def _target_from_aws(t: dict[str, Any]) -> EcsTarget:
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


def live_from_aws(rule: dict[str, Any], targets: list[dict[str, Any]], tags: dict[str, str], region: str) -> Live:
    name = rule["Name"]
    base = {"name": name, "tracking_id": tags.get(TRACKING_TAG), "fingerprint": tags.get(FINGERPRINT_TAG),
            "target_ids": tuple(t["Id"] for t in targets)}

    def unmanaged(why: str) -> Live:
        return Live(schedule=None, unmanaged=why, **base)  # type: ignore[arg-type]

    if rule.get("EventPattern"):
        return unmanaged("it is an event-pattern rule, not a schedule")
    if not rule.get("ScheduleExpression"):
        return unmanaged("it has no schedule expression")
    if not targets:
        return unmanaged(NO_TARGETS)
    if len(targets) > 1:
        return unmanaged(f"it has {len(targets)} targets (ecsched manages rules with one ECS target)")
    if "EcsParameters" not in targets[0]:
        return unmanaged(f"its target is not an ECS task ({targets[0].get('Arn', '?')})")
    try:
        target = _target_from_aws(targets[0])
        expr = expressions.parse(rule["ScheduleExpression"]).text
    except (ValueError, KeyError, TypeError, AttributeError) as e:  # any shape we do not write: not ours to model
        return unmanaged(str(e))
    schedule = Schedule(
        name=name, expression=expr, target=target, region=region,
        description=rule.get("Description") or "",
        enabled=rule.get("State", "ENABLED") != "DISABLED",
        tracking_id=tags.get(TRACKING_TAG) or "",
    )
    return Live(schedule=schedule, **base)  # type: ignore[arg-type]


# --- the backend -------------------------------------------------------------------------------


class RulesBackend(Backend):
    name = "rules"
    service = "events"

    @property
    def events(self) -> Any:
        return self.client

    def read(self, names: set[str], cluster_arns: set[str], *, prune: bool) -> dict[str, Live]:
        """Live schedules for `names`, plus every rule targeting `cluster_arns` when pruning."""
        return {lv.name: lv for lv in sorted(self.read_iter(names, cluster_arns, prune=prune), key=lambda lv: lv.name)}

    def read_iter(self, names: set[str], cluster_arns: set[str], *, prune: bool) -> Iterator[Live]:
        """`read`, yielding each rule as soon as it is read, so that apply writes while others are read."""
        if not prune and len(names) <= FEW:
            rules = self._describe(names)
        else:
            # 100 is AWS's largest page (moto's default is smaller). Not for ListTargetsByRule: moto's pager
            # breaks on Limit when targets share an ARN, and a rule has at most 5 targets anyway.
            rules = {r["Name"]: r for r in self._pages("list_rules", "Rules", page_size=100)}
        scope = {n for n in names if n in rules}
        if prune:
            for arn in sorted(cluster_arns):
                scope |= {n for n in self._pages("list_rule_names_by_target", "RuleNames", page_size=100, TargetArn=arn)
                          if n in rules}

        def one(name: str) -> Live:
            rule = rules[name]
            targets = self._pages("list_targets_by_rule", "Targets", Rule=name)
            tag_list = self.events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags", [])
            tags = {t["Key"]: t["Value"] for t in tag_list}
            return live_from_aws(rule, targets, tags, self.region)

        items = sorted(scope)
        if len(items) <= 1 or self.parallel == 1:
            yield from map(one, items)
            return
        pool = ThreadPoolExecutor(max_workers=self.parallel)
        try:
            for done in as_completed([pool.submit(one, n) for n in items]):
                yield done.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # a failure stops the reads not yet started

    def _describe(self, names: set[str]) -> dict[str, Any]:
        """A few rules by name: a DescribeRule each costs less than listing every rule of the account."""
        def one(name: str) -> dict[str, Any] | None:
            try:
                return dict(self.events.describe_rule(Name=name))
            except self.events.exceptions.ResourceNotFoundException:
                return None

        return {r["Name"]: r for r in self._map(one, sorted(names)) if r}

    def _check_failed(self, op: str, resp: dict[str, Any]) -> None:
        if resp.get("FailedEntryCount"):
            entries = "; ".join(f"{e.get('TargetId')}: {e.get('ErrorCode')}: {e.get('ErrorMessage')}"
                                for e in resp.get("FailedEntries", []))
            raise AwsError(f"{op} failed for {entries}")

    def apply(self, ch: Change) -> list[str]:
        """Carry out one change with the fewest writes. Returns the calls made, in order."""
        ev = self.events
        calls: list[str] = []
        if ch.action == "delete":
            if ch.remove_target_ids:
                self._check_failed("RemoveTargets", ev.remove_targets(Rule=ch.name, Ids=list(ch.remove_target_ids)))
                calls.append("RemoveTargets")
            ev.delete_rule(Name=ch.name)
            return [*calls, "DeleteRule"]
        s = ch.desired
        assert s is not None
        tags = [{"Key": TRACKING_TAG, "Value": s.tracking_id}, {"Key": FINGERPRINT_TAG, "Value": s.fingerprint()}]
        if ch.action == "create":
            # Created DISABLED, given its target, then enabled: a half-created rule never fires.
            ev.put_rule(**put_rule_params(s, state="DISABLED"), Tags=tags)
            self._check_failed("PutTargets", ev.put_targets(Rule=s.name, Targets=[target_params(s)]))
            calls += ["PutRule", "PutTargets"]
            if s.enabled:
                ev.enable_rule(Name=s.name)
                calls.append("EnableRule")
            return calls
        if ch.action != "update":
            return calls
        live = ch.live
        if ch.remove_target_ids:
            # Old target out first: a moment with no target beats a moment with two (a double run).
            self._check_failed("RemoveTargets", ev.remove_targets(Rule=s.name, Ids=list(ch.remove_target_ids)))
            calls.append("RemoveTargets")
        if live is None or (live.expression, live.description) != (s.expression, s.description):
            ev.put_rule(**put_rule_params(s))
            calls.append("PutRule")
        elif live.enabled != s.enabled:
            (ev.enable_rule if s.enabled else ev.disable_rule)(Name=s.name)
            calls.append("EnableRule" if s.enabled else "DisableRule")
        if live is None or live.target != s.target or ch.remove_target_ids:
            self._check_failed("PutTargets", ev.put_targets(Rule=s.name, Targets=[target_params(s)]))
            calls.append("PutTargets")
        arn = self._rule_arn(s.name)
        ev.tag_resource(ResourceARN=arn, Tags=tags)
        calls.append("TagResource")
        return calls

    def _rule_arn(self, name: str) -> str:
        from ecsched import arns

        return arns.rule_arn(name, self.aws.account(), self.region)

    def set_state(self, name: str, enabled: bool) -> None:
        (self.events.enable_rule if enabled else self.events.disable_rule)(Name=name)
