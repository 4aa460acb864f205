"""`ecsched locks`: list the locks in the lock table; `ecsched locks release KEY` force-releases one."""

from __future__ import annotations

import argparse
import json
import sys
import time

from ecsched.commands.lock import open_table
from ecsched.context import Context
from ecsched.errors import EcschedError
from ecsched.lock import Record, fmt_time

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


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.action == "release":
        return _release(args, ctx)
    if args.key:
        raise EcschedError(f"unexpected argument {args.key!r}: "
                           f"did you mean `ecsched locks release {args.key}`?")
    table = open_table(args, ctx, 60.0, 1)
    now = time.time()
    records = sorted((r for r in table.records() if args.all or (r.kind == "lease" and not r.expired(now))),
                     key=lambda r: (r.kind != "lease", r.key))
    if args.format == "json":
        ctx.out(json.dumps([r.as_json(now) for r in records], indent=2))
        return 0
    if not records:
        ctx.info(f"no locks held in table {table.name}")
        return 0
    rows = [["KEY", "OWNER", "SINCE", "EXPIRES"] + (["STATE"] if args.all else [])]
    for r in records:
        j = r.as_json(now)
        rows.append([r.key, r.owner, j["since"], j["expires"]] + ([j["state"]] if args.all else []))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        ctx.out("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _describe(rec: Record) -> str:
    if rec.kind == "done":
        return f"record that scheduled time {rec.scheduled_time} ran ({rec.describe()})"
    state = "expired" if rec.expired() else "expires"
    return f"held by {rec.describe()}, {state} {fmt_time(rec.expires_at)}"


def _release(args: argparse.Namespace, ctx: Context) -> int:
    if not args.key:
        raise EcschedError("which lock? ecsched locks release KEY [--yes]")
    table = open_table(args, ctx, 60.0, 1)
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
