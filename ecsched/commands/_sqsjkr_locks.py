"""`ecsched locks --sqsjkr`: sqsjkr's lock items (docs/sqsjkr.md, "Leftover locks"). A worker killed
mid-job leaves its item for ever; `release` deletes one only while it holds the event shown."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ecsched.context import Context
from ecsched.errors import EcschedError

HEADER = ["LOCK ID", "EVENT ID", "HELD BY"]


def table_name(args: argparse.Namespace, config: Any) -> str:
    top = config.setting("sqsjkr") if config is not None else None
    name = args.table or (top.get("lockTable") if isinstance(top, dict) else None)
    if not name:
        raise EcschedError("which table? pass --table T, or set `sqsjkr: {lockTable: T}` in the config")
    return str(name)


def held_by(event_id: str, attributes: dict[str, str]) -> str:
    """Who wrote the item, as far as its EventId tells."""
    if event_id.startswith("ecsched-lock:"):
        return "an ecsched lock lease" + (f" (owner {attributes['ecsched_owner']})"
                                          if attributes.get("ecsched_owner") else "")
    if ":manual:" in event_id:
        return "`ecsched run` of rule " + event_id.split(":manual:", 1)[0]
    return "a scheduled fire (its SQS MessageId)" if event_id else "unknown (no EventId)"


def run_sqsjkr(args: argparse.Namespace, ctx: Context, config: Any) -> int:
    from ecsched.sqsjkr.locks import check_table, get_lock, list_locks, release

    name = table_name(args, config)
    ddb = ctx.aws().client("dynamodb")
    wrong = check_table(ddb, name)
    if wrong:
        raise EcschedError(wrong)
    if args.action == "release":
        if not args.key:
            raise EcschedError("which lock? ecsched locks release LOCK_ID --sqsjkr [--yes]")
        item = get_lock(ddb, name, args.key)
        if item is None:
            raise EcschedError(f"no lock {args.key!r} in sqsjkr table {name}: nothing to release")
        what = f"event {item.event_id}, held by {held_by(item.event_id, item.attributes)}"
        ctx.info(f"lock {item.lock_id}: {what}")
        if not args.yes:
            if not sys.stdin.isatty():
                raise EcschedError(f"not releasing lock {args.key} without confirmation: stdin is not a terminal; "
                                   "pass --yes")
            print(f"release lock {args.key} ({what})? Only if no worker runs that job. [y/N] ", end="",
                  file=ctx.stderr, flush=True)
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                ctx.info("not released")
                return 1
        done = release(ddb, name, item.lock_id, item.event_id)
        if not done.done:
            raise EcschedError(done.message)
        ctx.info(done.message)
        return 0
    if args.key:
        raise EcschedError(f"unexpected argument {args.key!r}: did you mean `ecsched locks release {args.key} "
                           "--sqsjkr`?")
    items = list_locks(ddb, name)
    if args.format == "json":
        ctx.out(json.dumps([i.as_json() for i in items], indent=2))
        return 0
    if not items:
        ctx.info(f"no sqsjkr locks held in table {name}")
        return 0
    rows = [[i.lock_id, i.event_id, held_by(i.event_id, i.attributes)] for i in items]
    if ctx.term.is_terminal:
        from rich import box
        from rich.table import Table

        table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, show_edge=False)
        for h in HEADER:
            table.add_column(h, overflow="fold")
        for row in rows:
            table.add_row(*row)
        ctx.term.print(table)
        return 0
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    for row in [HEADER, *rows]:
        ctx.out("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0
