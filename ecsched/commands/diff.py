"""`ecsched diff`: what `apply` would change in AWS. With --exit-code: 0 none, 2 changes, 1 error."""

from __future__ import annotations

import argparse

from ecsched import render
from ecsched.commands._common import add_selection
from ecsched.context import Context

HELP = "show what apply would change in AWS (the plan, drift, conflicts)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_selection(p)
    p.add_argument("--exit-code", action="store_true", help="exit 2 when there are changes (0 none, 1 error)")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    p.add_argument("-u", "--unified", action="store_true", help="unified diff (always on; ecschedule spelling)")
    p.add_argument("--verbose", "-v", action="store_true", help="also list unchanged rules")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ecsched import workflow

    planned = workflow.compute(ctx, rules=args.rule, prune=args.prune, adopt=args.adopt)
    plan = planned.plan
    if args.format == "json":
        ctx.out(render.as_json(plan))
    elif args.format == "markdown":
        ctx.out(render.markdown(plan))
    else:
        ctx.out(render.text(plan, color=ctx.color, verbose=args.verbose))
    if args.exit_code and plan.has_changes:
        return 2
    return 0
