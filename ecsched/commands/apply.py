"""`ecsched apply`: make AWS match the file, touching only what ecsched owns and only what changed."""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ecsched import render
from ecsched.commands._common import add_selection
from ecsched.context import Context
from ecsched.plan import Change

HELP = "make AWS match the file (only rules ecsched owns; only what changed)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_selection(p)
    p.add_argument("--dry-run", "-dry-run", action="store_true", help="show the plan, change nothing")
    p.add_argument("--format", choices=["text", "json"], default="text")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched import workflow

    planned = workflow.compute(ctx, rules=args.rule, prune=args.prune, adopt=args.adopt)
    plan = planned.plan
    if args.dry_run:
        ctx.out(render.as_json(plan) if args.format == "json" else render.text(plan, color=ctx.color)
                + "\n(dry run: nothing was changed)")
        return 0
    if args.format == "text":
        ctx.out(render.text(plan, color=ctx.color))

    def backend_of(ch: Change) -> Any:
        s = ch.desired or ch.live
        if s is not None:
            return planned.backend_for(ch.backend, s.region)
        # Pruning an owned rule whose shape is not one we model: it was read by this backend.
        return next(b for (name, _region), b in planned.backends.items() if name == ch.backend)

    def one(ch: Change) -> tuple[Change, list[str], str | None]:
        backend = backend_of(ch)
        try:
            return ch, backend.apply(ch), None
        except Exception as e:  # reported per rule; the next apply converges
            from ecsched.cli import _describe_aws_exception

            return ch, [], _describe_aws_exception(e) or str(e)

    todo = plan.actionable
    with ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
        results = list(pool.map(one, todo))
    failed = 0
    report = []
    for ch, calls, err in results:
        if err:
            failed += 1
            ctx.error(f"rule {ch.name}: {ch.action} failed: {err}")
            report.append({"rule": ch.name, "action": ch.action, "ok": False, "error": err})
        else:
            ctx.info(f"{render.SYMBOL[ch.action]} {ch.name}: {ch.action}d ({', '.join(calls)})")
            report.append({"rule": ch.name, "action": ch.action, "ok": True, "calls": calls})
    for ch in plan.conflicts:
        ctx.error(f"rule {ch.name}: refused: {ch.reason}")
    if args.format == "json":
        import json

        ctx.out(json.dumps({"results": report, "conflicts": [{"rule": c.name, "reason": c.reason}
                                                             for c in plan.conflicts]}, indent=2))
    done = len(todo) - failed
    ctx.info(f"Applied {done} change{'s' if done != 1 else ''}"
             + (f", {failed} failed" if failed else "") + (f", {len(plan.conflicts)} refused" if plan.conflicts else "")
             + ".")
    return 1 if failed or plan.conflicts else 0
