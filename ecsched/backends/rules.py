"""EventBridge rules: read live schedules into the model, and apply plan changes.

Reading costs, for N rules in scope: ceil(all rules / 100) ListRules pages (a DescribeRule each instead,
for up to 3 rules and no prune), then N ListTargetsByRule and N ListTagsForResource, run concurrently.
`prune` adds the ListRuleNamesByTarget pages of the clusters (their rules join the scope), and finds
owned rules by their tag as well, so that a rule left without a target is found too: one
ListTagsForResource for each other rule of the region, and a ListTargetsByRule for each tagged one.

Writes are ordered so that an interruption at any point leaves one whole version (old, new, or paused)
and the next apply converges: enable last, the fingerprint tag last, and a multi-call change announced
first by the `ecsched:applying` tag, so that what it leaves reads as "unfinished apply", not drift.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from ecsched import expressions
from ecsched.aws import DEFAULT_PARALLEL, Aws
from ecsched.backends.base import BaseBackend
from ecsched.backends.ecs import DEDUPE_PATHS, ecs_parameters, target_from_aws
from ecsched.errors import AwsError
from ecsched.model import (
    APPLYING_TAG,
    FINGERPRINT_TAG,
    TRACKING_TAG,
    EcsTarget,
    Live,
    Schedule,
    Target,
    dedupe_overrides,
    input_json,
)
from ecsched.ownership import owned_by_any
from ecsched.plan import Change
from ecsched.sqsjkr.target import NotOurs, is_sqs_target, job_target_from_rule_target, rule_target_params

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
    assert isinstance(s.target, EcsTarget)
    return json.dumps(dedupe_overrides(s.target, s.name, "<time>"), separators=(",", ":"), ensure_ascii=False)


def target_params(s: Schedule) -> dict[str, Any]:
    t = s.target
    if not isinstance(t, EcsTarget):
        return rule_target_params(t)  # an sqsjkr job: the queue, no role (docs/sqsjkr.md)
    out: dict[str, Any] = {"Id": t.target_id, "Arn": t.cluster_arn, "RoleArn": t.role_arn,
                           "EcsParameters": ecs_parameters(t)}
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


def live_from_aws(rule: dict[str, Any], targets: list[dict[str, Any]], tags: dict[str, str], region: str) -> Live:
    name = rule["Name"]
    base: dict[str, Any] = {
        "name": name, "tracking_id": tags.get(TRACKING_TAG), "fingerprint": tags.get(FINGERPRINT_TAG),
        "target_ids": tuple(t["Id"] for t in targets), "target_arns": tuple(t.get("Arn", "?") for t in targets),
        "enabled": rule.get("State", "ENABLED") != "DISABLED", "applying": tags.get(APPLYING_TAG) or None,
        "region": region,
    }

    def unmanaged(why: str) -> Live:
        return Live(schedule=None, unmanaged=why, **base)

    if rule.get("EventPattern"):
        return unmanaged("it is an event-pattern rule, not a schedule")
    if not rule.get("ScheduleExpression"):
        return unmanaged("it has no schedule expression")
    if not targets:
        return unmanaged(NO_TARGETS)
    if len(targets) > 1:
        return unmanaged(f"it has {len(targets)} targets (ecsched manages rules with one ECS or sqsjkr target)")
    sqs = is_sqs_target(targets[0])
    if not sqs and "EcsParameters" not in targets[0]:
        return unmanaged(f"its target is not an ECS task nor an sqsjkr queue ({targets[0].get('Arn', '?')})")
    target: Target
    if sqs:
        job = job_target_from_rule_target(targets[0])
        if isinstance(job, NotOurs):
            return unmanaged(job.reason)
        target = job
    try:
        if not sqs:
            target = target_from_aws(targets[0])
        expr = expressions.parse(rule["ScheduleExpression"]).text
    except (ValueError, KeyError, TypeError, AttributeError) as e:  # any shape we do not write: not ours to model
        return unmanaged(str(e))
    schedule = Schedule(
        name=name, expression=expr, target=target, region=region,
        description=rule.get("Description") or "",
        enabled=base["enabled"],
        tracking_id=tags.get(TRACKING_TAG) or "",
    )
    return Live(schedule=schedule, **base)


# --- the backend -------------------------------------------------------------------------------


class RulesBackend(BaseBackend):
    name = "rules"
    service = "events"

    def __init__(self, aws: Aws, region: str, parallel: int = DEFAULT_PARALLEL) -> None:
        super().__init__(aws, region, parallel)
        self._disabled: set[str] = set()  # rules this backend disabled itself (set_state), in this run

    @property
    def events(self) -> Any:
        return self.client

    def read_iter(self, names: set[str], cluster_arns: set[str], *, prune: bool,
                  owners: set[str] | None = None) -> Iterator[Live]:
        """Live schedules for `names`, plus, when pruning, every rule on `cluster_arns` and every tagged rule
        of the region (only those of `owners`, when given), each yielded as soon as it is read, so that apply
        writes while others are read."""
        if not prune and len(names) <= FEW:
            rules = self._describe(names)
        else:
            # 100 is AWS's largest page (moto's default is smaller). Not for ListTargetsByRule: moto's pager
            # breaks on Limit when targets share an ARN, and a rule has at most 5 targets anyway.
            rules = {r["Name"]: r for r in self._pages("list_rules", "Rules", page_size=100)}
        wanted = {n for n in names if n in rules}
        if prune:  # every rule on the clusters (dump reads these), then the other rules by tag
            for arn in sorted(cluster_arns):
                wanted |= {n for n in self._pages("list_rule_names_by_target", "RuleNames", page_size=100,
                                                  TargetArn=arn) if n in rules}
        scope = sorted(wanted)
        others = sorted(set(rules) - wanted) if prune else []

        def tags_of(rule: dict[str, Any]) -> dict[str, str]:
            tag_list = self.events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags", [])
            return {t["Key"]: t["Value"] for t in tag_list}

        def one(name: str) -> Live | None:
            rule = rules[name]
            targets = self._pages("list_targets_by_rule", "Targets", Rule=name)
            return live_from_aws(rule, targets, tags_of(rule), self.region)

        def tagged(name: str) -> Live | None:
            """A rule no file declares: read further only when it carries an owner's tag."""
            rule = rules[name]
            tags = tags_of(rule)
            tid = tags.get(TRACKING_TAG)
            if tid is None or (owners is not None and not owned_by_any(tid, owners, self.region)):
                return None
            targets = self._pages("list_targets_by_rule", "Targets", Rule=name)
            return live_from_aws(rule, targets, tags, self.region)

        work: list[tuple[Callable[[str], Live | None], str]] = []
        work += [(one, n) for n in scope]
        work += [(tagged, n) for n in others]
        if len(work) <= 1 or self.parallel == 1:
            for fn, name in work:
                if (lv := fn(name)) is not None:
                    yield lv
            return
        pool = ThreadPoolExecutor(max_workers=self.parallel)
        try:
            for done in as_completed([pool.submit(fn, n) for fn, n in work]):
                if (lv := done.result()) is not None:
                    yield lv
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

    # --- writes ---------------------------------------------------------------------------------

    def apply(self, ch: Change) -> list[str]:
        """Carry out one change. Returns the calls made, in order."""
        if ch.action == "delete":
            return self._delete(ch)
        s = ch.desired
        if s is None:
            return []
        if ch.action == "create":
            return self._create(s)
        if ch.action == "update":
            return self._update(ch, s)
        return []

    def _delete(self, ch: Change) -> list[str]:
        """Disable, remove the targets, delete. Interrupted, it leaves a paused (or untargeted) rule that
        still carries its tag, so the next prune finds it and finishes."""
        ev = self.events
        calls: list[str] = []
        if ch.live is None and ch.remove_target_ids and ch.current is None:
            # Only a plan (plan.prune_change) vets a shape ecsched does not manage for deletion.
            raise AwsError(f"refused to delete {ch.name}: ecsched does not manage its shape; name it with "
                           "`--prune --rule NAME` to delete it")
        if ch.remove_target_ids:
            enabled = ch.current.enabled if ch.current is not None else (ch.live.enabled if ch.live else None)
            if enabled is not False and ch.name not in self._disabled:  # unknown counts as enabled
                ev.disable_rule(Name=ch.name)
                calls.append("DisableRule")
            self._check_failed("RemoveTargets", ev.remove_targets(Rule=ch.name, Ids=list(ch.remove_target_ids)))
            calls.append("RemoveTargets")
        ev.delete_rule(Name=ch.name)
        return [*calls, "DeleteRule"]

    def _create(self, s: Schedule) -> list[str]:
        """Created DISABLED, owned and marked as being applied; given its target; enabled; then recorded."""
        ev = self.events
        fp = s.fingerprint()
        ev.put_rule(**put_rule_params(s, state="DISABLED"),
                    Tags=[{"Key": TRACKING_TAG, "Value": s.tracking_id}, {"Key": APPLYING_TAG, "Value": fp}])
        self._check_failed("PutTargets", ev.put_targets(Rule=s.name, Targets=[target_params(s)]))
        calls = ["PutRule", "PutTargets"]
        if s.enabled:
            ev.enable_rule(Name=s.name)
            calls.append("EnableRule")
        self._tag(s.name, {FINGERPRINT_TAG: fp, APPLYING_TAG: ""})
        return [*calls, "TagResource"]

    def _update(self, ch: Change, s: Schedule) -> list[str]:
        ev = self.events
        live, cur = ch.live, ch.current
        # The state the rule is in; unknown (no read, no model) counts as enabled, the unsafe case.
        enabled = live.enabled if live is not None else (cur.enabled if cur and cur.enabled is not None else True)
        rule_text = live is None or (live.expression, live.description) != (s.expression, s.description)
        target = live is None or live.target != s.target or bool(ch.remove_target_ids)
        steps: list[tuple[str, Callable[[], Any]]] = []

        def write_rule() -> None:
            if rule_text:
                steps.append(("PutRule", lambda: ev.put_rule(**put_rule_params(s))))
            elif enabled != s.enabled:
                steps.append(("EnableRule" if s.enabled else "DisableRule",
                              lambda: (ev.enable_rule if s.enabled else ev.disable_rule)(Name=s.name)))

        if target and (rule_text or not s.enabled) and enabled:
            # Stop it first, so that no run mixes the old time with the new command (or the reverse).
            steps.append(("DisableRule", lambda: ev.disable_rule(Name=s.name)))
            enabled = False
        if target:
            if ch.remove_target_ids:
                # Old target out first: a moment with no target beats a moment with two (a double run).
                steps.append(("RemoveTargets", lambda: self._check_failed(
                    "RemoveTargets", ev.remove_targets(Rule=s.name, Ids=list(ch.remove_target_ids)))))
            steps.append(("PutTargets", lambda: self._check_failed(
                "PutTargets", ev.put_targets(Rule=s.name, Targets=[target_params(s)]))))
        write_rule()  # last: this is what enables it
        fp = s.fingerprint()
        tags = {TRACKING_TAG: s.tracking_id, FINGERPRINT_TAG: fp}
        calls: list[str] = []
        if len(steps) > 1:
            self._tag(s.name, {APPLYING_TAG: fp})
            calls.append("TagResource")
        if len(steps) > 1 or (cur is not None and cur.applying):
            tags[APPLYING_TAG] = ""
        for call, run in steps:
            run()
            calls.append(call)
        self._tag(s.name, tags)
        return [*calls, "TagResource"]

    def _tag(self, name: str, tags: dict[str, str]) -> None:
        self.events.tag_resource(ResourceARN=self._rule_arn(name),
                                 Tags=[{"Key": k, "Value": v} for k, v in tags.items()])

    def _rule_arn(self, name: str) -> str:
        from ecsched import arns

        return arns.rule_arn(name, self.aws.account(), self.region)

    def set_state(self, name: str, enabled: bool, *, fingerprint: str | None = None) -> list[str]:
        """Enable or disable at once (`--now`). `fingerprint`: the record to move along with the state, so that
        a later diff does not mistake this change for one made outside ecsched."""
        (self.events.enable_rule if enabled else self.events.disable_rule)(Name=name)
        (self._disabled.discard if enabled else self._disabled.add)(name)
        calls = ["EnableRule" if enabled else "DisableRule"]
        if fingerprint:
            self._tag(name, {FINGERPRINT_TAG: fingerprint})
            calls.append("TagResource")
        return calls
