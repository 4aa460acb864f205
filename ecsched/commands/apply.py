"""`ecsched apply`: make AWS match the file, touching only what ecsched owns and only what changed."""

from __future__ import annotations

import argparse
from typing import Any

from ecsched import render
from ecsched.commands._common import add_selection
from ecsched.context import Context

HELP = "make AWS match the file (only rules ecsched owns; only what changed)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_selection(p)
    p.add_argument("--dry-run", "-dry-run", action="store_true", help="show the plan, change nothing")
    p.add_argument("--format", choices=["text", "json"], default="text")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched import workflow

    if args.dry_run:
        plan = workflow.compute(ctx, rules=args.rule, prune=args.prune, adopt=args.adopt).plan
        ctx.out(render.as_json(plan) if args.format == "json" else render.text(plan, color=ctx.color)
                + "\n(dry run: nothing was changed)")
        for ch in plan.conflicts:
            ctx.error(f"rule {ch.name}: apply would refuse it: {ch.reason}")
        return 1 if plan.conflicts else 0  # as the real apply would

    done_so_far = 0

    def progress(result: workflow.Result) -> None:
        nonlocal done_so_far
        done_so_far += 1
        ch, _calls, err = result
        ctx.progress(f"applying: {done_so_far} done; last {ch.name} {'failed' if err else ch.action + 'd'}")

    # Each rule is written as soon as its live state is read: reads and writes overlap. The plan and each
    # rule's result are printed once all is done, in plan order; meanwhile a terminal shows progress.
    try:
        planned, results = workflow.apply(ctx, rules=args.rule, prune=args.prune, adopt=args.adopt,
                                          on_result=progress)
    except workflow.ApplyInterrupted as e:
        ctx.progress_done()
        _report(ctx, e.results)
        from ecsched.errors import describe_aws_exception

        ctx.error(f"reading the live state failed part-way: {describe_aws_exception(e.cause) or e.cause}")
        ctx.info(f"Applied {sum(1 for r in e.results if not r[2])} change(s) before that; run apply again to "
                 "converge.")
        return 1
    ctx.progress_done()
    plan = planned.plan
    if args.format == "text":
        ctx.out(render.text(plan, color=ctx.color))
    report = _report(ctx, results)
    failed = sum(1 for r in report if not r["ok"])
    for ch in plan.conflicts:
        ctx.error(f"rule {ch.name}: refused: {ch.reason}")
    if args.format == "json":
        import json

        ctx.out(json.dumps({"results": report, "conflicts": [{"rule": c.name, "reason": c.reason}
                                                             for c in plan.conflicts]}, indent=2))
    done = len(results) - failed
    ctx.info(f"Applied {done} change{'s' if done != 1 else ''}"
             + (f", {failed} failed" if failed else "") + (f", {len(plan.conflicts)} refused" if plan.conflicts else "")
             + ".")
    return 1 if failed or plan.conflicts else 0


def _report(ctx: Context, results: list[Any]) -> list[dict[str, Any]]:
    """One line per rule applied (stderr), and the same as data for --format json."""
    report: list[dict[str, Any]] = []
    for ch, calls, err in results:
        if err:
            ctx.error(f"rule {ch.name}: {ch.action} failed: {err}")
            report.append({"rule": ch.name, "action": ch.action, "ok": False, "error": err})
        else:
            ctx.info(f"{render.SYMBOL[ch.action]} {ch.name}: {ch.action}d ({', '.join(calls)})")
            report.append({"rule": ch.name, "action": ch.action, "ok": True, "calls": calls})
    return report
