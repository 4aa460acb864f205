"""`ecsched locks`: list the locks in the lock table; `ecsched locks release KEY` force-releases one."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from ecsched.context import DEFAULT_CONFIG, Context
from ecsched.errors import EcschedError
from ecsched.lock import LockTable, Record, fmt_time, open_table, resolve_table

HELP = "list held locks (key, owner, since, expires), or force-release one: `locks release KEY`"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.usage = ("%(prog)s [--table T] [--format text|json] [--all]\n"
               "       %(prog)s release KEY [--table T] [--yes]")
    p.add_argument("action", nargs="?", choices=["list", "release"], default="list",
                   help="list (default) or release")
    p.add_argument("key", nargs="?", help="with release: the lock key")
    p.add_argument("--table", metavar="T",
                   help="DynamoDB table (default: $ECSCHED_LOCK_TABLE, then the config's lockTable)")
    p.add_argument("--format", choices=["text", "json"], default="text", help="list output (default text)")
    p.add_argument("--all", action="store_true",
                   help="also expired leases and the records of scheduled times already run")
    p.add_argument("-y", "--yes", action="store_true", help="release without asking")


def _table(args: argparse.Namespace, ctx: Context) -> LockTable:
    config = ctx.config if getattr(ctx.args, "config", None) or os.path.exists(DEFAULT_CONFIG) else None
    return open_table(ctx.aws(), resolve_table(args.table, config, exit_code=1), 60.0)


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.action == "release":
        return _release(args, ctx)
    if args.key:
        raise EcschedError(f"unexpected argument {args.key!r}: "
                           f"did you mean `ecsched locks release {args.key}`?")
    table = _table(args, ctx)
    now = time.time()
    records = sorted((r for r in table.records() if args.all or (r.kind == "lease" and not r.expired(now))),
                     key=lambda r: (r.kind != "lease", r.key))
    if args.format == "json":
        ctx.out(json.dumps([r.as_json(now) for r in records], indent=2))
        return 0
    if not records:
        ctx.info(f"no locks held in table {table.name}")
        return 0
    header = ["KEY", "OWNER", "SINCE", "EXPIRES"] + (["STATE"] if args.all else [])
    rows = []
    for r in records:
        j = r.as_json(now)
        owner = f"{r.owner} ({r.what})" if r.what else r.owner
        rows.append([r.key, owner, j["since"], j["expires"]] + ([j["state"]] if args.all else []))
    if ctx.term.is_terminal:
        ctx.term.print(_rich_table(header, rows))
        return 0
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        ctx.out("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _rich_table(header: list[str], rows: list[list[str]]) -> object:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, show_edge=False)
    for name in header:
        # On a narrow terminal the owner (a task ARN) folds; the key and the times stay whole.
        if name == "OWNER":
            table.add_column(name, overflow="fold", min_width=20)
        else:
            table.add_column(name, no_wrap=True)
    for row in rows:
        table.add_row(*row, style=_STATE_STYLES.get(row[4], "") if len(row) > 4 else "")
    return table


_STATE_STYLES = {"expired": "yellow", "done": "dim"}


def _describe(rec: Record) -> str:
    if rec.kind == "done":
        return f"record that scheduled time {rec.scheduled_time} ran ({rec.describe()})"
    state = "expired" if rec.expired() else "expires"
    return f"held by {rec.describe()}, {state} {fmt_time(rec.expires_at)}"


def _release(args: argparse.Namespace, ctx: Context) -> int:
    if not args.key:
        raise EcschedError("which lock? ecsched locks release KEY [--yes]")
    table = _table(args, ctx)
    rec = table.get(args.key)
    if rec is None:
        raise EcschedError(f"no lock {args.key!r} in table {table.name}: nothing to release")
    what = _describe(rec)
    if not args.yes:
        if not sys.stdin.isatty():
            raise EcschedError(f"not releasing lock {args.key} ({what}) without confirmation: stdin is not a "
                               f"terminal; pass --yes")
        print(f"release lock {args.key} ({what})? [y/N] ", end="", file=ctx.stderr, flush=True)
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            ctx.info("not released")
            return 1
    if not table.release(args.key, rec.token):
        now = table.get(args.key)
        raise EcschedError(f"lock {args.key} changed meanwhile ({_describe(now) if now else 'gone'}); "
                           f"not released: run again to see its new state")
    ctx.info(f"released lock {args.key} ({what})")
    if rec.kind == "lease" and not rec.expired():
        ctx.info("its holder stops its command when it next tries to renew the lease")
    return 0
