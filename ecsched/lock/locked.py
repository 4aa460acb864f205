"""`ecsched lock`'s run: take the lease (or skip, fail, wait), run the command under it, give it back.

The order that keeps one copy at a time:
1. take the lease; with a scheduled time, record it (at most once per scheduled time);
2. start the watchdog (leader of a new process group) with the lease's expiry;
3. start the command in that group, then the heartbeat, which tells the watchdog of every renewal;
4. when the command exits, SIGKILL the group (leftovers and the watchdog), then release the lease.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ecsched.durations import format_duration
from ecsched.lock.formatting import Log, fmt_time
from ecsched.lock.lease import Heartbeat, margin_for, take
from ecsched.lock.process import (
    EXIT_CANNOT_EXEC,
    EXIT_NOT_FOUND,
    SignalForwarder,
    Watchdog,
    start_command,
    supervise,
)
from ecsched.lock.table import EXIT_LOCKED, LockTable, Record

OnLocked = Literal["skip", "fail", "wait"]


@dataclass
class LockOptions:
    key: str
    command: Sequence[str]
    lease: float = 60.0
    on_locked: OnLocked = "skip"
    wait_timeout: float = 600.0
    poll: float = 1.0
    scheduled_time: str | None = None
    dedupe_keep: float = 7 * 86400.0


def run_locked(table: LockTable, opts: LockOptions, owner: str, log: Log) -> int:
    """Acquire (or skip/fail/wait), run the command, supervise the lease, release. Returns the exit code.
    `log` should not block (see `QueuedLog`): it is called while the lease is held."""
    token = uuid.uuid4().hex
    name = opts.key
    with SignalForwarder() as fwd:
        decided: list[int] = []  # the exit code, once the holder decided not to wait (any more)

        def keep_waiting(other: Record, waited: float) -> bool:
            code = _when_held(table, opts, other, waited, log, announce=not decided)
            decided[:] = [code]
            return code < 0

        taken = take(table, name, owner, token, opts.lease, keep_waiting=keep_waiting,
                     wait_timeout=opts.wait_timeout if opts.on_locked == "wait" else 0.0,
                     interrupted=lambda: fwd.interrupted() is not None, poll=opts.poll,
                     scheduled_time=opts.scheduled_time)
        if not taken.acquired:
            if (sig := fwd.interrupted()) is not None:
                return 128 + sig
            if decided and decided[0] >= 0:
                return decided[0]
            assert taken.other is not None
            log.error(f"{_held(name, taken.other)}; gave up after waiting {format_duration(taken.waited)} "
                      f"(exit {EXIT_LOCKED})")
            return EXIT_LOCKED
        if taken.other is not None and taken.other.token != token:
            other = taken.other
            log.warn(f"lock {name}: took over the expired lease of {other.owner} (held since "
                     f"{fmt_time(other.since)}, expired {fmt_time(other.expires_at)}), which was never released "
                     f"(killed, or cut off from DynamoDB)")
        heartbeat = Heartbeat(table, name, token, opts.lease, taken.expires_at, log)
        try:
            return _run_held(table, opts, owner, token, heartbeat, fwd, log)
        finally:
            heartbeat.stop()
            try:
                if not table.release(name, token) and heartbeat.lost is None:
                    log.warn(f"lock {name}: not released: it is no longer ours")
            except Exception as e:
                log.warn(f"lock {name}: could not release the lease ({e}); it expires by itself at "
                         f"{fmt_time(heartbeat.expires_at)}")


def _held(key: str, other: Record) -> str:
    return f"lock {key} is held by {other.describe()} (lease expires {fmt_time(other.expires_at)})"


def _when_held(table: LockTable, opts: LockOptions, other: Record, waited: float, log: Log,
               announce: bool) -> int:
    """-1 to keep waiting, else the exit code to leave with (a duplicate delivery, skip, fail)."""
    name = opts.key
    if opts.scheduled_time and other.scheduled_time == opts.scheduled_time:
        log.info(f"ecsched lock: {name} for scheduled time {opts.scheduled_time} is already running "
                 f"({other.describe()}); skipping this duplicate delivery")
        return 0
    if opts.scheduled_time:
        prev = table.previous_run(name, opts.scheduled_time)
        if prev is not None:
            log.info(f"ecsched lock: {name} already ran for scheduled time {opts.scheduled_time} "
                     f"({prev.describe()}); skipping this duplicate delivery")
            return 0
    if opts.on_locked == "skip":
        log.info(f"ecsched lock: {_held(name, other)}; skipping")
        return 0
    if opts.on_locked == "fail":
        log.error(f"{_held(name, other)}; not running (exit {EXIT_LOCKED})")
        return EXIT_LOCKED
    if waited < opts.wait_timeout and announce:
        log.info(f"ecsched lock: {_held(name, other)}; waiting up to {format_duration(opts.wait_timeout)}")
    return -1


def _run_held(table: LockTable, opts: LockOptions, owner: str, token: str, heartbeat: Heartbeat,
              fwd: SignalForwarder, log: Log) -> int:
    name, when = opts.key, opts.scheduled_time
    if (sig := fwd.interrupted()) is not None:
        return 128 + sig
    claimed = False
    if when:
        prev = table.claim_run(name, when, owner, token, opts.dedupe_keep)
        if prev is not None:
            finished = f", finished {fmt_time(prev.finished_at)}" if prev.finished_at else ""
            log.info(f"ecsched lock: {name} already ran for scheduled time {when} "
                     f"({prev.describe()}{finished}); skipping this duplicate delivery")
            return 0
        claimed = True
    margin = margin_for(opts.lease)
    dog: Watchdog | None = None
    try:
        dog = Watchdog.start(name, margin, heartbeat.expires_at)
        if (sig := fwd.interrupted()) is not None:
            # Stopped while the run was being recorded: do not start the command at all.
            log.info(f"ecsched lock: {name}: {signal.Signals(sig).name} before the command started; "
                     f"not running it")
            return 128 + sig
        try:
            child = start_command(list(opts.command), dog.pgid)
        except OSError as e:
            code = EXIT_NOT_FOUND if isinstance(e, FileNotFoundError) else EXIT_CANNOT_EXEC
            log.error(f"cannot run {opts.command[0]!r}: {e.strerror or e}")
            return code
        fwd.attach(dog.pgid)  # delivers a signal that came in while the command was being started
        claimed = False  # it ran: the record stays, with its exit code
        # Started after the fork: preexec_fn and threads do not mix.
        heartbeat.listen(dog.renewed, dog.lost)
        heartbeat.start()
        code = supervise(child, dog, heartbeat, name, margin, log)
        if when:
            try:
                table.finish_run(name, when, token, code)
            except Exception as e:
                log.warn(f"lock {name}: could not record the end of the run: {e}")
        return code
    finally:
        if dog is not None:
            dog.close()
        if claimed and when:
            _unclaim(table, name, when, token, log)


def _unclaim(table: LockTable, key: str, scheduled_time: str, token: str, log: Log) -> None:
    try:
        table.unclaim_run(key, scheduled_time, token)
    except Exception as e:
        log.warn(f"lock {key}: could not undo the record of scheduled time {scheduled_time} ({e}); a "
                 f"redelivery of it will be skipped")
