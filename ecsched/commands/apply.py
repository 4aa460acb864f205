"""`ecsched apply`: make AWS match the file, touching only what ecsched owns and only what changed."""

from __future__ import annotations

import argparse

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
        return 0

    def progress(result: workflow.Result) -> None:
        ch, calls, err = result
        if err:
            ctx.error(f"rule {ch.name}: {ch.action} failed: {err}")
        else:
            ctx.info(f"{render.SYMBOL[ch.action]} {ch.name}: {ch.action}d ({', '.join(calls)})")

    # Each rule is written as soon as its live state is read: reads and writes overlap.
    planned, results = workflow.apply(ctx, rules=args.rule, prune=args.prune, adopt=args.adopt, on_result=progress)
    plan = planned.plan
    if args.format == "text":
        ctx.out(render.text(plan, color=ctx.color))
    failed = 0
    report = []
    for ch, calls, err in results:
        if err:
            failed += 1
            report.append({"rule": ch.name, "action": ch.action, "ok": False, "error": err})
        else:
            report.append({"rule": ch.name, "action": ch.action, "ok": True, "calls": calls})
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
