"""`ecsched apply`: make AWS match the file, touching only what ecsched owns and only what changed.

Exit codes: 0 all done; 1 something failed, was refused or could not be read (the rest was applied; run
it again); 75 another apply of the same trackingId and region holds the lease (nothing was done).
"""

from __future__ import annotations

import argparse
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from ecsched.commands._common import add_lease, add_selection, lease_options, sync_options, warn_queue_notes
from ecsched.context import Context

if TYPE_CHECKING:
    from ecsched.aws import Aws
    from ecsched.config import Config
    from ecsched.report import Report
    from ecsched.sync import Planned, Result

HELP = "make AWS match the file (only rules ecsched owns; only what changed)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_selection(p)
    add_lease(p)
    p.add_argument("--dry-run", "-dry-run", action="store_true", help="show the plan, change nothing")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--fix-queue-policy", action="store_true",
                   help="sqsjkr job rules: add to each queue's policy the one statement that lets the rule send "
                        "(nothing else in the policy changes)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched import planview, sync
    from ecsched.report import Report
    from ecsched.sync import lease

    opts = sync_options(args)
    if args.dry_run:
        planned = sync.compute(ctx.source(), opts, ctx)
        plan, hp = planned.plan, planned.history
        ctx.out(planview.as_json(plan, history=hp) if args.format == "json"
                else planview.text(plan, term=ctx.term, history=hp) + "\n(dry run: nothing was changed)")
        for ch in plan.conflicts:
            ctx.error(f"rule {ch.name}: apply would refuse it: {ch.reason}")
        warn_queue_notes(ctx, planned.queue_notes)
        refused = hp.conflicts if hp is not None else []
        for why in refused:
            ctx.error(f"history: apply would refuse it: {why}")
        Report().skip_all(planned.unread).print_to(ctx)
        return 1 if plan.conflicts or refused or planned.unread else 0  # as the real apply would

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
        ctx.out(planview.text(plan, term=ctx.term, history=planned.history))
    report = _recorded(results)
    for ch in plan.conflicts:
        report.refuse(ch.name, ch.reason)
    _history(report, planned)
    for line in planned.queue_fixed:  # "queue ARN: added a statement letting rule R send"
        ctx.info(f"~ {line} (SetQueueAttributes)")
    if planned.queue_error is not None:
        report.record("queue policy", "fix", error=planned.queue_error)
    warn_queue_notes(ctx, planned.queue_notes)
    report.skip_all(planned.unread)
    report.print_to(ctx)
    if args.format == "json":
        import json

        ctx.out(json.dumps(report.as_json(), indent=2))
    ctx.info(report.summary())
    return report.exit_code


def _history(report: Report, planned: Planned) -> None:
    """The `history:` resources' outcomes, in the same report (and so the same exit code) as the rules'."""
    from ecsched.sync import history

    out = planned.history_outcome
    if out is None:
        return
    for c in out.done:
        report.record(history.label(c), c.action, history.calls(c))
    for why in out.refused:
        report.refuse("history", why + " (no history resource was changed)")
    if out.error is not None:
        report.record("history", "apply", error=out.error + " (run apply again to finish)")


def _recorded(results: list[Result]) -> Report:
    from ecsched.report import Report

    report = Report("Applied")
    for ch, calls, err in results:
        report.record(ch.name, ch.action, calls, err)
    return report
