"""`ecsched history`: past runs, newest first, from the history log group that `history:` sets up; without
one, the last hour that ECS keeps (and how to enable history)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ecsched.context import Context

if TYPE_CHECKING:
    from ecsched.insight.runs import Run

HELP = "past runs of each schedule, newest first (exit codes, durations, stop reasons)"

ENABLE_HINT = """no `history:` block in the file, so only the last hour that ECS keeps is shown. To keep every run,
add to the file and run `ecsched apply`:

  history:
    logGroup: /ecsched/history
    retentionDays: 30

apply then manages an EventBridge rule that sends stopped-task events to that log group (and the Logs
resource policy it needs). History starts from then on."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rule", "-rule", action="append", metavar="GLOB", help="only these rules (repeatable; globs)")
    p.add_argument("--since", default="7d", metavar="DURATION", help="how far back: 90m, 36h, 7d (default 7d)")
    p.add_argument("--tz", metavar="ZONE", help="show times in this IANA zone (default: the machine's)")
    p.add_argument("--format", choices=["text", "json"], default="text")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched.durations import parse_duration
    from ecsched.insight import common, events, settings, tasks
    from ecsched.insight.report import merge
    from ecsched.insight.runs import newest_first

    tz_name, tz = common.zone(args.tz)
    since = timedelta(seconds=parse_duration(args.since, "--since", positive=True))
    cfg = ctx.config()
    hist = settings.history(cfg)
    aws = ctx.aws(cfg.region)
    schedules, _ = common.selected(cfg, aws.account(), aws.region, args.rule)
    now = datetime.now(UTC)
    if hist:
        runs: list[Run] = []
        for region in sorted({s.region for s in schedules}):
            logs = aws.client("logs", region)
            found = events.read(logs, hist.log_group, now - since, now)
            runs += found
            if not found and not _exists(logs, hist.log_group):
                ctx.warn(f"log group {hist.log_group} does not exist in {region} yet: `ecsched apply` creates it, "
                         "and history starts from then on")
    else:
        ctx.info(ENABLE_HINT)
        runs = [r for r in tasks.read_clusters(aws, {(s.region, s.target.cluster_arn) for s in schedules})
                if r.stopped]
    att = tasks.attribute(merge(runs), schedules)
    rows = newest_first([r for rs in att.by_schedule.values() for r in rs])
    owner = {r.task_arn: name for name, rs in att.by_schedule.items() for r in rs}
    rows = tasks.mark_essential(aws, rows)
    if args.format == "json":
        ctx.out(as_json(rows, owner, now, hist.log_group if hist else None, now - since if hist else None))
        return 0
    show(ctx, rows, owner, now, tz, tz_name)
    return 0


def _exists(logs: Any, group: str) -> bool:
    found = logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups") or []
    return any(g.get("logGroupName") == group for g in found)


def as_json(rows: list[Run], owner: dict[str, str], now: datetime, group: str | None, since: datetime | None) -> str:
    from ecsched.insight.runs import iso, to_json

    doc: dict[str, Any] = {
        "source": "history" if group else "ecs", "logGroup": group, "since": iso(since), "now": iso(now),
        "runs": [{"schedule": owner[r.task_arn], **to_json(r, now)} for r in rows],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def show(ctx: Context, rows: list[Run], owner: dict[str, str], now: datetime, tz: Any, tz_name: str) -> None:
    from ecsched.insight.common import seconds, when

    cells = []
    for r in rows:
        codes = ", ".join(f"{c.name}={c.exit_code if c.exit_code is not None else '?'}" for c in r.essential)
        cells.append([when(r.start, tz, utc_too=False), owner[r.task_arn], r.outcome, seconds(r.duration(now)),
                      seconds(r.pull_seconds), codes or "-", " ".join(x for x in (r.stop_code, r.stopped_reason) if x)
                      or "-"])
    heads = ["started", "schedule", "outcome", "took", "pull", "exit", "stop"]
    if ctx.term.is_terminal:
        from rich import box
        from rich.table import Table

        table = Table(*heads, box=box.SIMPLE_HEAD, pad_edge=False, title=f"times in {tz_name}", title_justify="left")
        for row in cells:
            style = {"failed": "red", "succeeded": "green"}.get(row[2], "")
            table.add_row(*row, style=style)
        ctx.term.print(table)
    else:
        widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(heads[:-1])]
        ctx.out(f"times in {tz_name}")
        for row in [heads, *cells]:
            ctx.out("  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1])
    ctx.out(f"{len(rows)} run{'s' if len(rows) != 1 else ''}.")
