"""`ecsched dump`: print the rules (and/or schedules) that target a cluster, in ecschedule's format.
No config file needed. Schedules come from ecsched's schedule groups, or the groups named."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from typing import Any

from ecsched.commands._common import add_pacing
from ecsched.context import Context
from ecsched.errors import EcschedError

HELP = "print the live rules or schedules that target a cluster, as a config file"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cluster", "-cluster", help="cluster name or ARN (default: the config's)")
    p.add_argument("--queue", metavar="QUEUE",
                   help="instead of a cluster's rules: the sqsjkr job rules that send to this SQS queue (name, URL "
                        "or ARN), in the file's spelling (docs/sqsjkr.md)")
    p.add_argument("--role", "-role", help="role to write at the top level (default: the most common one)")
    p.add_argument("--format", choices=["yaml", "json"], default="yaml")
    add_pacing(p)
    p.add_argument("--backend", choices=["rules", "scheduler", "all"], default="rules",
                   help="EventBridge rules (default), Scheduler schedules, or both")
    p.add_argument("--schedule-group", action="append", metavar="NAME",
                   help="with --backend scheduler/all: read this group (repeatable; default: ecsched's groups)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.queue:
        return dump_queue(args, ctx)
    from ecsched import arns
    from ecsched.backends.rules import RulesBackend
    from ecsched.backends.scheduler import SchedulerBackend
    from ecsched.config.build import default_schedule_group
    from ecsched.export import schedule_to_config
    from ecsched.plan import Live
    from ecsched.sync.history import is_history_rule
    from ecsched.yamlio import dump as to_yaml

    cluster = args.cluster
    region = getattr(ctx.args, "region", None)
    if not cluster or not region:
        try:
            cfg = ctx.config()
            cluster = cluster or cfg.setting("cluster")
            region = region or cfg.region
        except EcschedError:
            if not cluster:
                raise EcschedError("dump needs --cluster (and --region, or AWS_REGION)") from None
    if not cluster:
        raise EcschedError("dump needs --cluster (and --region, or AWS_REGION)")
    aws = ctx.aws(region)
    aws.configure(quota=args.quota, parallel=args.parallel)
    account = aws.account()
    region = aws.region
    cluster_arn = arns.cluster_arn(cluster, account, region)
    found: list[Live] = []
    if args.backend in ("rules", "all"):
        live = RulesBackend(aws, region, parallel=args.parallel).read(set(), {cluster_arn}, prune=True)
        found += [live[n] for n in sorted(live)]
    if args.backend in ("scheduler", "all"):
        sb = SchedulerBackend(aws, region, parallel=args.parallel)
        groups = args.schedule_group or sorted(sb.owned_groups())
        live = sb.read_groups(groups, {cluster_arn})
        found += [live[n] for n in sorted(live)]
    elif args.schedule_group:
        raise EcschedError("--schedule-group needs --backend scheduler (or all)")
    rules: list[dict[str, Any]] = []
    roles: Counter[str] = Counter()
    trackings: Counter[str] = Counter()
    seen: set[str] = set()
    for lv in found:
        name = lv.name
        if name in seen:  # mid-migration, a rule and its schedule share the name: the rule is what runs
            ctx.warn(f"schedule {name}: skipped: a rule of the same name is dumped (a migration in progress?)")
            continue
        seen.add(name)
        if lv.schedule is None and is_history_rule(lv):
            continue  # the `history:` sink's rule: not a schedule, and it has no block in a dump
        if lv.schedule is None:
            ctx.warn(f"{'schedule' if lv.backend == 'scheduler' else 'rule'} {name}: skipped: {lv.unmanaged}")
            continue
        if lv.schedule.cluster_arn != cluster_arn:
            continue
        item = schedule_to_config(lv.schedule, short=account)
        roles[item["role"]] += 1
        trackings[lv.tracking_id or ""] += 1
        item["_tracking"] = lv.tracking_id
        rules.append(item)
    cluster_name = arns.short(cluster_arn, account, region)
    for item in rules:
        # The group ecsched would pick anyway is left out, as are defaults elsewhere.
        if item.get("scheduleGroup") == default_schedule_group(item["_tracking"] or cluster_name):
            del item["scheduleGroup"]
    all_scheduler = bool(rules) and all(item.get("backend") == "scheduler" for item in rules)
    if all_scheduler:
        for item in rules:
            del item["backend"]
    role = args.role or (roles.most_common(1)[0][0] if roles else arns.DEFAULT_ROLE)
    tracking = trackings.most_common(1)[0][0] if trackings else ""
    for item in rules:
        if item.get("role") == role:
            del item["role"]
        t = item.pop("_tracking")
        if t and t != (tracking or cluster_name):
            item["trackingId"] = t
    doc: dict[str, Any] = {"region": region, "cluster": cluster_name, "role": role}
    if tracking and tracking != cluster_name:
        doc["trackingId"] = tracking
    if all_scheduler:
        doc["backend"] = "scheduler"
    doc["rules"] = rules
    ctx.out(json.dumps(doc, indent=2, ensure_ascii=False) if args.format == "json" else to_yaml(doc).rstrip())
    what = "schedule" if args.backend == "scheduler" else "rule"
    ctx.info(f"{len(rules)} {what}{'s' if len(rules) != 1 else ''} target {cluster_arn}")
    return 0


def dump_queue(args: argparse.Namespace, ctx: Context) -> int:
    """`dump --queue Q`: every rule whose target is the queue (ListRuleNamesByTarget), each target read as
    an sqsjkr job; rules ecsched cannot read as a job are named on stderr with the reason."""
    from ecsched.config.secrets import mask_env
    from ecsched.sqsjkr.checks import dump_queue as read_rules
    from ecsched.sqsjkr.job import queue_ref

    region = getattr(ctx.args, "region", None)
    if not region:
        try:
            region = ctx.config().region
        except EcschedError:
            region = None
    aws = ctx.aws(region)
    aws.configure(quota=args.quota, parallel=args.parallel)
    account = aws.account()
    region = aws.region
    try:
        ref = queue_ref(args.queue, account.id, region, account.partition)
    except ValueError as e:
        raise EcschedError(f"--queue: {e}") from None
    rules, skipped = read_rules(aws.client("events", ref.region), ref.arn, account=account.id, region=ref.region,
                                mask_env=mask_env)
    for name, why in skipped:
        ctx.warn(f"rule {name}: skipped: {why}")
    doc: dict[str, Any] = {"region": ref.region, "rules": rules}
    if args.format == "json":
        ctx.out(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        from ecsched.yamlio import dump as to_yaml

        ctx.out(to_yaml(doc).rstrip())
    ctx.info(f"{len(rules)} job rule{'s' if len(rules) != 1 else ''} send to {ref.arn}")
    return 0
