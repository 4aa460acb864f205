"""`ecsched migrate --to scheduler`: move rules to EventBridge Scheduler with no double and no missed run.
The work is in ecsched.migration; this module reads the arguments."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import TYPE_CHECKING

from ecsched.context import Context

if TYPE_CHECKING:
    from ecsched.migration import Clock

HELP = "move rules to EventBridge Scheduler: no double run, no missed run; resumable; edits the file"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", required=True, choices=["scheduler"], help="the backend to move to")
    p.add_argument("--rule", "-rule", action="append", metavar="NAME",
                   help="only this rule (repeatable; globs); default: every rule in the file")
    p.add_argument("--dry-run", "-dry-run", action="store_true", help="show the steps and the file edit only")
    p.add_argument("--max-wait", type=int, default=600, metavar="SECONDS",
                   help="longest wait for a quiet moment between two runs (default 600)")


def run(args: argparse.Namespace, ctx: Context, clock: Clock | None = None) -> int:
    from ecsched.migration import MigrateOptions, SystemClock, migrate

    options = MigrateOptions(rules=tuple(args.rule or ()), dry_run=args.dry_run,
                             max_wait=timedelta(seconds=max(0, args.max_wait)))
    cfg = ctx.config()
    return migrate(cfg, ctx.aws(cfg.region), ctx, options, clock or SystemClock())
