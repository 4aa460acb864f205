"""`ecsched timeline`: one lane per schedule over the next days, each fire marked, and the peaks: the
minutes when many batches start at once. --html writes the same as one self-contained file."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from ecsched.context import Context
from ecsched.errors import EcschedError

if TYPE_CHECKING:
    from ecsched.config import Config
    from ecsched.insight.timeline import Lane, Peak
    from ecsched.model import Schedule

HELP = "when every schedule fires over the next days, and when too many start at once (--html for a file)"


def _days(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--days {text}: a whole number of days, 1-14") from None
    if not 1 <= n <= 14:
        raise argparse.ArgumentTypeError(f"--days {n}: out of range 1-14")
    return n


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--days", type=_days, default=1, metavar="N", help="how many days ahead, 1-14 (default 1)")
    p.add_argument("--tz", metavar="ZONE", help="show times in this IANA zone (default: the machine's)")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML page (no network needed)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched.insight import common, settings, timeline

    tz_name, tz = common.zone(args.tz)
    cfg = ctx.config()
    hist = settings.history(cfg)
    schedules = _schedules(ctx, cfg, hist is not None)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start, end = now, now + timedelta(days=args.days)
    lanes = timeline.lanes(schedules, start, end)
    if hist is not None:
        _outcomes(ctx, lanes, hist.log_group, now)
    peaks = timeline.peaks(lanes, tz)
    frequent = [f"{lane.name}" for lane in lanes if lane.frequent and lane.enabled]
    show(ctx, lanes, peaks, start, end, tz, tz_name, args.days, frequent)
    if args.html:
        from ecsched.insight import html

        page = html.render(lanes, peaks, start, end, tz, tz_name, history=hist is not None, frequent=frequent)
        try:
            with open(args.html, "w", encoding="utf-8") as f:
                f.write(page)
        except OSError as e:
            raise EcschedError(f"--html {args.html}: cannot write: {e.strerror}") from None
        ctx.info(f"wrote {args.html} ({len(page) // 1024 + 1} KiB, self-contained)")
    return 0


def _schedules(ctx: Context, cfg: Config, need_aws: bool) -> list[Schedule]:
    """No AWS call unless history is read: the ARNs only need to be well-formed for the timeline."""
    from ecsched.arns import Account

    region = ctx.extra("region") or cfg.region or os.environ.get("AWS_REGION") or os.environ.get(
        "AWS_DEFAULT_REGION") or "us-east-1"
    if need_aws:
        aws = ctx.aws(cfg.region)
        return cfg.schedules(aws.account(), aws.region)
    return cfg.schedules(Account("000000000000"), region)


def _outcomes(ctx: Context, lanes: list[Lane], group: str, now: datetime) -> None:
    """Colour each lane with its last run's outcome, from the history log group (best effort)."""
    from ecsched.errors import describe_aws_exception
    from ecsched.insight import events, tasks
    from ecsched.insight.report import HISTORY_LOOKBACK
    from ecsched.insight.runs import newest_first

    schedules = [lane.schedule for lane in lanes]
    aws = ctx.aws()
    try:
        runs = [r for region in sorted({s.region for s in schedules})
                for r in events.read(aws.client("logs", region), group, now - HISTORY_LOOKBACK, now)]
    except Exception as e:
        ctx.warn(f"history not read, lanes are not coloured: {describe_aws_exception(e) or e}")
        return
    att = tasks.attribute(runs, schedules)
    for lane in lanes:
        mine = newest_first(att.by_schedule.get(lane.name, []))
        lane.outcome = mine[0].outcome if mine else None


def show(ctx: Context, lanes: list[Lane], peaks: list[Peak], start: datetime, end: datetime, tz: tzinfo,
         tz_name: str, days: int, frequent: list[str]) -> None:
    from ecsched.insight.timeline import columns, day_ruler, describe, strip

    term = ctx.term
    name_w = min(32, max([len(lane.name) for lane in lanes] + [8]))
    width = max(20, term.width - name_w - 2)
    header = f"{'':{name_w}}  {day_ruler(start, end, width, tz)}"
    lines: list[tuple[str, str, str]] = []  # (name, lane, style)
    for lane in lanes:
        name = lane.name if len(lane.name) <= name_w else lane.name[: name_w - 1] + "…"
        style = "dim" if not lane.enabled else {"failed": "red", "succeeded": "green"}.get(lane.outcome or "", "cyan")
        lines.append((name.ljust(name_w), strip(columns(lane.fires, start, end, width)), style))
    if term.color:
        from rich.text import Text

        out = Text()
        out.append(f"{len(lanes)} schedules, next {days} day{'s' if days != 1 else ''}, times in {tz_name}\n",
                   style="bold")
        out.append(header + "\n", style="dim")
        for name, strip_text, style in lines:
            out.append(name + "  ", style="dim" if style == "dim" else "")
            out.append(strip_text + "\n", style=style)
        term.print(out)
    else:
        ctx.out(f"{len(lanes)} schedules, next {days} day{'s' if days != 1 else ''}, times in {tz_name}")
        ctx.out(header)
        for name, strip_text, style in lines:
            ctx.out(f"{name}  {strip_text}" + ("  (paused)" if style == "dim" else ""))
    ctx.out("")
    if peaks:
        ctx.out("Peaks:")
        for p in peaks[:10]:
            ctx.out("  " + describe(p, tz_name, days))
        if len(peaks) > 10:
            ctx.out(f"  … and {len(peaks) - 10} more (see --html)")
    else:
        ctx.out("No peaks: no minute has 3 or more batches starting.")
    if frequent:
        ctx.out(f"Frequent (more than once per 10 minutes, not in peaks): {', '.join(frequent)}")
