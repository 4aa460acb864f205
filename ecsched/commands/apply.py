"""`ecsched apply`: make AWS match the file, touching only what ecsched owns and only what changed.

Exit codes: 0 all done; 1 something failed, was refused or could not be read (the rest was applied; run
it again); 75 another apply of the same trackingId and region holds the lease (nothing was done).
"""

from __future__ import annotations

import argparse
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from ecsched.commands._common import add_lease, add_selection, lease_options, sync_options
from ecsched.context import Context

if TYPE_CHECKING:
    from ecsched.aws import Aws
    from ecsched.config import Config
    from ecsched.report import Report
    from ecsched.sync import Result

HELP = "make AWS match the file (only rules ecsched owns; only what changed)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_selection(p)
    add_lease(p)
    p.add_argument("--dry-run", "-dry-run", action="store_true", help="show the plan, change nothing")
    p.add_argument("--format", choices=["text", "json"], default="text")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched import planview, sync
    from ecsched.report import Report
    from ecsched.sync import lease

    opts = sync_options(args)
    if args.dry_run:
        planned = sync.compute(ctx.source(), opts, ctx)
        plan = planned.plan
        ctx.out(planview.as_json(plan) if args.format == "json" else planview.text(plan, term=ctx.term)
                + "\n(dry run: nothing was changed)")
        for ch in plan.conflicts:
            ctx.error(f"rule {ch.name}: apply would refuse it: {ch.reason}")
        Report().skip_all(planned.unread).print_to(ctx)
        return 1 if plan.conflicts or planned.unread else 0  # as the real apply would

    done = 0

    def progress(result: Result) -> None:
        nonlocal done
        done += 1
        ch, _calls, err = result
        ctx.progress(f"applying: {done} done; last {ch.name} {'failed' if err else ch.action + 'd'}")

    def hold(cfg: Config, aws: Aws) -> AbstractContextManager[object]:
        return lease.hold(cfg, aws, lease_options(args), ctx, command="apply")

    # Each rule is written as soon as its live state is read: reads and writes overlap. The plan and each
    # rule's result are printed once all is done, in plan order; meanwhile a terminal shows progress.
    try:
        planned, results = sync.apply(ctx.source(), opts, ctx, on_result=progress, hold=hold,
                                      on_read=planview.prepare if args.format == "text" else None)
    except sync.ApplyInterrupted as e:
        ctx.progress_done()
        report = _recorded(e.results)
        report.print_to(ctx)
        from ecsched.errors import describe_aws_exception

        ctx.error(f"the apply stopped part-way: {describe_aws_exception(e.cause) or e.cause}")
        ctx.info(f"Applied {len(report.done)} change(s) before that; run apply again to converge.")
        return 1
    ctx.progress_done()
    plan = planned.plan
    if args.format == "text":
        ctx.out(planview.text(plan, term=ctx.term))
    report = _recorded(results)
    for ch in plan.conflicts:
        report.refuse(ch.name, ch.reason)
    report.skip_all(planned.unread)
    report.print_to(ctx)
    if args.format == "json":
        import json

        ctx.out(json.dumps(report.as_json(), indent=2))
    ctx.info(report.summary())
    return report.exit_code


def _recorded(results: list[Result]) -> Report:
    from ecsched.report import Report

    report = Report("Applied")
    for ch, calls, err in results:
        report.record(ch.name, ch.action, calls, err)
    return report
