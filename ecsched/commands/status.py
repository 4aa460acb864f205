"""`ecsched status`: one row per schedule: state, next fires, last run, running now, last success, flags.
With --exit-code: 0 healthy, 2 something flagged, 1 error (a dead man's switch for a nightly CI job)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from ecsched.commands._common import add_pacing
from ecsched.context import Context

if TYPE_CHECKING:
    from ecsched.insight.report import ScheduleStatus
    from ecsched.insight.runs import Run

HELP = "when each schedule fires next, what its last run did, what runs now, and what needs attention"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rule", "-rule", action="append", metavar="GLOB", help="only these rules (repeatable; globs)")
    p.add_argument("--tz", metavar="ZONE", help="show times in this IANA zone (default: the machine's)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--exit-code", action="store_true",
                   help="exit 2 when anything is flagged (missed, failed, overlap, long), 0 when healthy, 1 on error")
    add_pacing(p)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched.insight import common, settings
    from ecsched.insight.report import build, read_sources
    from ecsched.insight.tasks import mark_essential

    tz_name, tz = common.zone(args.tz)
    cfg = ctx.config()
    hist = settings.history(cfg)
    aws = ctx.aws(cfg.region)
    aws.configure(quota=args.quota, parallel=args.parallel)
    schedules, extras = common.selected(cfg, aws.account(), aws.region, args.rule)
    now = datetime.now(UTC)
    src = read_sources(aws, schedules, extras, now, history_group=hist.log_group if hist else None,
                       parallel=args.parallel)
    statuses = build(schedules, extras, src, now, essential=lambda runs: mark_essential(aws, runs))
    if args.format == "json":
        ctx.out(as_json(statuses, now, tz_name, src.ambiguous, history=hist is not None))
    else:
        show(ctx, statuses, now, tz, tz_name, history=hist is not None)
        for r, names in src.ambiguous:
            ctx.warn(f"task {r.task_arn.rsplit('/', 1)[-1]} (startedBy {r.started_by}) matches "
                     f"{', '.join(names)} equally; it is left out")
    flagged = any(st.flags for st in statuses)
    return 2 if args.exit_code and flagged else 0


def as_json(statuses: list[ScheduleStatus], now: datetime, tz: str, ambiguous: list[tuple[Run, list[str]]],
            *, history: bool) -> str:
    from ecsched.insight.report import to_json_row
    from ecsched.insight.runs import iso

    doc: dict[str, Any] = {
        "now": iso(now), "timezone": tz, "history": history,
        "schedules": [to_json_row(st, now, tz) for st in statuses],
        "flagged": sorted(st.schedule.name for st in statuses if st.flags),
        "ambiguous": [{"taskArn": r.task_arn, "startedBy": r.started_by, "candidates": names}
                      for r, names in ambiguous],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def run_text(r: Run | None, now: datetime, tz: tzinfo) -> str:
    from ecsched.insight.common import seconds, when

    if r is None:
        return "-"
    if r.start is None:  # an emulator's task, or one ECS had not started: no times to show
        parts = [f"{r.outcome} (times unknown)"]
    else:
        parts = [when(r.start, tz, utc_too=False), seconds(r.duration(now))]
    if r.pull_seconds is not None:
        parts.append(f"pull {seconds(r.pull_seconds)}")
    codes = ", ".join(f"{c.name}={c.exit_code if c.exit_code is not None else '?'}" for c in r.essential)
    if codes:
        parts.append(f"exit {codes}")
    if r.stop_code:
        parts.append(r.stop_code)
    if r.stopped_reason:
        parts.append(r.stopped_reason)
    return " · ".join(parts)


def _pause(st: ScheduleStatus) -> str:
    reason = st.extras.pause_reason
    if not reason:
        return "paused"
    return reason if reason.startswith("paused") else f"paused: {reason}"


def rows(statuses: list[ScheduleStatus], now: datetime, tz: tzinfo) -> list[dict[str, Any]]:
    """Each schedule's cells as plain text, for the table and for the piped form alike."""
    from ecsched.insight import ticks
    from ecsched.insight.common import when

    out = []
    for st in statuses:
        s = st.schedule
        text, zone = ticks.written(s)
        running = [f"running since {when(r.start, tz, utc_too=False)}" if r.start else "running now"
                   for r in st.running]
        ok = st.last_success
        out.append({
            "name": s.name, "enabled": s.enabled, "expression": f"{text} {zone}",
            "state": "enabled" if s.enabled else _pause(st),
            "next": [when(t, tz) for t in st.next_fires],
            "last": run_text(st.last_run, now, tz),
            "outcome": st.last_run.outcome if st.last_run else "",
            "running": running,
            "success": (when(ok.start, tz, utc_too=False) if ok.start else "yes (time unknown)") if ok else "none seen",
            "flags": [f"{f.kind}: {f.message}" for f in st.flags],
            "checked": st.missed is not None or not s.enabled,
        })
    return out


def show(ctx: Context, statuses: list[ScheduleStatus], now: datetime, tz: tzinfo, tz_name: str, *,
         history: bool) -> None:
    data = rows(statuses, now, tz)
    if ctx.term.is_terminal:
        _table(ctx, data, tz_name)
    else:  # piped: one block per schedule, plain lines that grep and diff well
        ctx.out(f"times in {tz_name}")
        for d in data:
            ctx.out(f"\n{d['name']}  {d['state']}  {d['expression']}")
            ctx.out(f"  next:         {', '.join(d['next']) or '-'}")
            ctx.out(f"  last run:     {d['last']}")
            ctx.out(f"  running:      {'; '.join(d['running']) or 'no'}")
            ctx.out(f"  last success: {d['success']}")
            quiet = "none" if d["checked"] else "none (ticks not checked)"
            ctx.out(f"  flags:        {'; '.join(d['flags']) or quiet}")
    flagged = sum(1 for st in statuses if st.flags)
    ctx.out(f"\n{len(statuses)} schedule{'s' if len(statuses) != 1 else ''}, {flagged} flagged."
            + ("" if history else " Runs older than an hour: add a `history:` block (see `ecsched history`)."))


def _table(ctx: Context, data: list[dict[str, Any]], tz_name: str) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=f"times in {tz_name}", title_justify="left")
    for col in ("schedule", "next", "last run", "running / last success", "flags"):
        table.add_column(col, overflow="fold")
    for d in data:
        name = Text(d["name"], style="bold" if d["enabled"] else "dim")
        name.append(f"\n{d['expression']}", style="dim")
        if not d["enabled"]:
            name.append(f"\n{d['state']}", style="yellow")
        last = Text(d["last"], style={"failed": "red", "succeeded": "green"}.get(d["outcome"], ""))
        flags = Text("\n".join(d["flags"]), style="bold red") if d["flags"] else Text(
            "ok" if d["checked"] else "ok (ticks not checked)", style="green")
        table.add_row(name, "\n".join(d["next"]) or "-", last,
                      "\n".join([*d["running"], f"last ok: {d['success']}"]), flags)
    ctx.term.print(table)
