"""`ecsched lock`: run a command while holding a DynamoDB lease, at most once per scheduled time.

Every failure before the command starts exits 125 (as `env` and `timeout` do), so it is never confused
with the command's own exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from ecsched.context import DEFAULT_CONFIG, Context
from ecsched.durations import parse_duration
from ecsched.errors import EcschedError
from ecsched.lock import (
    EXIT_NOT_RUN,
    MIN_LEASE,
    LockOptions,
    LockTable,
    QueuedLog,
    open_table,
    owner_identity,
    region_of_arn,
    resolve_table,
    run_locked,
    unsupported,
)

HELP = "run a command while holding a DynamoDB lease lock (skip duplicates; never strand a batch)"
# How long the end of a run waits for its messages when stderr is blocked (a full pipe, a stalled log
# driver): the exit code matters more than the last lines.
LOG_DRAIN_TIMEOUT = 2.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.usage = ("%(prog)s [--key KEY] [--table T] [--lease 60s] [--on-locked skip|fail|wait] "
               "[--wait-timeout D] -- COMMAND [ARGS...]\n       %(prog)s --create-table [--table T]")
    p.add_argument("--key", help="lock key (default: $ECSCHED_RULE, the rule name)")
    p.add_argument("--table", metavar="T",
                   help="DynamoDB table (default: $ECSCHED_LOCK_TABLE, then the config's lockTable)")
    p.add_argument("--lease", default="60s", metavar="D",
                   help="lease duration, renewed every third of it; a dead holder's lock frees after it "
                        "(default 60s)")
    p.add_argument("--on-locked", choices=["skip", "fail", "wait"], default="skip",
                   help="when held: skip (exit 0, default), fail (exit 75), or wait for it")
    p.add_argument("--wait-timeout", default="10m", metavar="D",
                   help="with --on-locked wait: give up after this long, exit 75 (default 10m)")
    p.add_argument("--scheduled-time", metavar="TIME",
                   help="run this scheduled time at most once (default: $ECSCHED_SCHEDULED_TIME, set by "
                        "`dedupe: true`)")
    p.add_argument("--dedupe-ttl", default="7d", metavar="D",
                   help="how long a scheduled time stays recorded as run (default 7d)")
    p.add_argument("--create-table", action="store_true",
                   help="create the lock table if missing (on-demand, TTL on expires_at); idempotent")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS...]",
                   help="the command to run under the lock")


def table_for(args: argparse.Namespace, ctx: Context, lease: float, region_hint: str | None = None) -> LockTable:
    config = ctx.config if getattr(ctx.args, "config", None) or os.path.exists(DEFAULT_CONFIG) else None
    name = resolve_table(args.table, config, exit_code=EXIT_NOT_RUN)
    # Outside ECS's environment, the task ARN still says which region we run in.
    use_hint = region_hint and not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    try:
        return open_table(ctx.aws(region_hint if use_hint else None), name, lease)
    except EcschedError as e:
        raise EcschedError(str(e), exit_code=EXIT_NOT_RUN) from e


def run(args: argparse.Namespace, ctx: Context) -> int:
    command = list(args.argv)
    if command[:1] == ["--"]:
        command = command[1:]
    try:
        lease = parse_duration(args.lease, "--lease")
        wait_timeout = parse_duration(args.wait_timeout, "--wait-timeout")
        dedupe_ttl = parse_duration(args.dedupe_ttl, "--dedupe-ttl")
    except EcschedError as e:
        raise EcschedError(str(e), exit_code=EXIT_NOT_RUN) from e
    if lease < MIN_LEASE:
        raise EcschedError(f"--lease {args.lease}: must be at least 1s", exit_code=EXIT_NOT_RUN)
    if dedupe_ttl <= 0:
        raise EcschedError(f"--dedupe-ttl {args.dedupe_ttl}: must be more than 0", exit_code=EXIT_NOT_RUN)

    if args.create_table:
        table = table_for(args, ctx, lease)
        table.create(ctx.info)
        if not command:
            return 0
    if not command:
        raise EcschedError("nothing to run: ecsched lock [--key KEY] -- COMMAND [ARGS...]",
                           exit_code=EXIT_NOT_RUN)
    if (why := unsupported()) is not None:
        raise EcschedError(why, exit_code=EXIT_NOT_RUN)
    key = args.key or os.environ.get("ECSCHED_RULE")
    if not key:
        raise EcschedError("no lock key: pass --key KEY (scheduled rules set ECSCHED_RULE, the default)",
                           exit_code=EXIT_NOT_RUN)
    scheduled_time = args.scheduled_time or os.environ.get("ECSCHED_SCHEDULED_TIME") or None

    owner, warning = owner_identity()
    if warning:
        ctx.warn(warning)
    if not args.create_table:
        table = table_for(args, ctx, lease, region_of_arn(owner))
    opts = LockOptions(key=key, command=command, lease=lease, on_locked=args.on_locked,
                       wait_timeout=wait_timeout, scheduled_time=scheduled_time, dedupe_keep=dedupe_ttl)
    log = QueuedLog(ctx)
    try:
        code = run_locked(table, opts, owner, log)
    finally:
        drained = log.close(LOG_DRAIN_TIMEOUT)
    if not drained:
        # stderr is blocked: the interpreter's final flush would hang, or abort on the writer thread's
        # lock. The lease is released and the command is done: leave with its exit code.
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os._exit(code)
    return code
