"""`ecsched diff`: what `apply` would change in AWS. With --exit-code: 0 none, 2 changes, 1 error.

Quiet when nothing changes: stdout stays empty, as scripts written for ecschedule expect (`diff -all -u
2>&1`, any output meaning "changed"). People still get one line, on stderr, when it is a terminal;
`--verbose` prints the whole plan, unchanged rules too.
"""

from __future__ import annotations

import argparse

from ecsched.commands._common import add_selection, sync_options
from ecsched.context import Context

HELP = "show what apply would change in AWS (the plan, drift, conflicts)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_selection(p)
    p.add_argument("--exit-code", action="store_true", help="exit 2 when there are changes (0 none, 1 error)")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    p.add_argument("-u", "--unified", action="store_true", help="unified diff (always on; ecschedule spelling)")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="the whole plan, unchanged rules too (even when nothing changes)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched import planview, sync
    from ecsched.report import Report

    # The text and markdown views dump each changed rule's YAML while the others are still being read.
    prepare = planview.prepare if args.format in ("text", "markdown") else None
    planned = sync.compute(ctx.source(), sync_options(args), ctx, on_read=prepare)
    plan = planned.plan
    if args.format == "json":
        ctx.out(planview.as_json(plan, extra={"unread": [{"rule": u.name, "error": u.error}
                                                          for u in planned.unread]}))
    elif args.format == "markdown":
        ctx.out(planview.markdown(plan))
    elif plan.has_changes or args.verbose:
        ctx.out(planview.text(plan, term=ctx.term, verbose=args.verbose))
    elif ctx.err_term.is_terminal and not planned.unread:
        ctx.info(f"No changes: AWS matches the file. {planview.summary(plan)}")  # people only: stdout stays empty
    report = Report("Read").skip_all(planned.unread)
    report.print_to(ctx)
    if report.unread:
        return report.exit_code  # the plan is incomplete: neither "no changes" nor "changes"
    if args.exit_code and plan.has_changes:
        return 2
    return 0
