"""Holding a lease: take it (or wait for it), renew it in the background, give it back.

One lease code for `ecsched lock` (which runs a command under it) and for ecsched's own writes
(`apply`, `migrate`, `disable --now`), which hold one per tracking id and region with `hold()`:

    with hold(aws, table, state_key(tracking_id, region), wait_timeout=60, what="apply") as lease:
        ...            # lease.check() between writes raises if the lease was lost meanwhile
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ecsched.durations import format_duration
from ecsched.errors import EcschedError
from ecsched.lock.formatting import Log, QuietLog, fmt_time
from ecsched.lock.identity import owner_identity
from ecsched.lock.table import EXIT_LOCKED, AwsLike, LeaseLost, LockTable, LockTableError, Record, open_table

DEFAULT_LEASE = 60.0
MIN_LEASE = 1.0


def margin_for(lease: float) -> float:
    """How long before expiry an unrenewed lease counts as lost (and the watchdog of `ecsched lock`
    stops the command): a quarter of the lease, between 0.5 s and 15 s."""
    return min(max(lease / 4, 0.5), 15.0)


class Heartbeat(threading.Thread):
    """Renews the lease every lease/3; after a failure, retries sooner until it expires.

    `on_renewed(expires_at)` and `on_lost(reason)` run first, before any message is logged: the
    watchdog of `ecsched lock` hears of a renewal or a loss even when the log is blocked."""

    def __init__(self, table: LockTable, key: str, token: str, lease: float, expires_at: float, log: Log,
                 on_renewed: Callable[[float], None] | None = None,
                 on_lost: Callable[[str], None] | None = None) -> None:
        super().__init__(name="ecsched-lock-heartbeat", daemon=True)
        self.table, self.key, self.token, self.lease, self.log = table, key, token, lease, log
        self.expires_at = float(expires_at)  # our own, conservative view of when others may take over
        self.lost: str | None = None
        self._on_renewed, self._on_lost = on_renewed, on_lost
        self._halt = threading.Event()

    def listen(self, on_renewed: Callable[[float], None], on_lost: Callable[[str], None]) -> None:
        """Before `start`."""
        self._on_renewed, self._on_lost = on_renewed, on_lost

    def run(self) -> None:
        interval = self.lease / 3
        delay = interval
        failing_since: float | None = None
        while not self._halt.wait(delay):
            try:
                expires_at = float(self.table.renew(self.key, self.token, self.lease))
            except LeaseLost as e:
                if self._on_lost is not None:
                    self._on_lost(str(e))
                self.lost = str(e)
                return
            except Exception as e:
                if self._halt.is_set():
                    return
                if failing_since is None:
                    failing_since = time.time()
                    self.log.warn(f"lock {self.key}: cannot renew the lease ({e}); retrying until it expires "
                                  f"at {fmt_time(self.expires_at)}")
                delay = min(interval, 2.0) / 2
                continue
            if self._on_renewed is not None:
                self._on_renewed(expires_at)
            self.expires_at = expires_at
            if failing_since is not None:
                self.log.info(f"ecsched lock: lock {self.key}: lease renewed again")
                failing_since = None
            delay = interval

    def stop(self) -> None:
        # No long join: a renewal stuck on an unreachable DynamoDB must not delay the exit; one that lands
        # after the release fails its condition and changes nothing.
        self._halt.set()
        if self.is_alive():
            self.join(timeout=0.5)


@dataclass
class Taken:
    """The outcome of `take`: acquired (with the stale lease taken over, if any), or not (with the
    holder that kept it)."""

    acquired: bool
    other: Record | None
    expires_at: int
    waited: float


def take(table: LockTable, key: str, owner: str, token: str, lease: float, *, wait_timeout: float,
         keep_waiting: Callable[[Record, float], bool], interrupted: Callable[[], bool] = lambda: False,
         poll: float = 1.0, scheduled_time: str | None = None, what: str | None = None) -> Taken:
    """Acquire the lease, polling (with jitter) while `keep_waiting(holder, seconds waited)` says so, for
    at most `wait_timeout` seconds, or until `interrupted()`."""
    started = time.monotonic()
    while True:
        acquired, other, expires_at = table.acquire(key, owner, token, lease, scheduled_time, what)
        waited = time.monotonic() - started
        if acquired:
            return Taken(True, other, expires_at, waited)
        assert other is not None
        if not keep_waiting(other, waited) or waited >= wait_timeout or interrupted():
            return Taken(False, other, 0, waited)
        # Jitter so that waiters do not all retry in the same instant.
        end = time.monotonic() + min(poll * random.uniform(0.75, 1.25), max(0.0, wait_timeout - waited))
        while time.monotonic() < end and not interrupted():
            time.sleep(min(0.05, max(0.0, end - time.monotonic())))
        if interrupted():
            return Taken(False, other, 0, time.monotonic() - started)


def state_key(tracking_id: str, region: str) -> str:
    """The lease that ecsched's own writes to one tracking id in one region hold."""
    return f"ecsched/{tracking_id}/{region}"


class LockHeldError(EcschedError):
    """Another holder kept the lease for the whole wait."""

    exit_code = EXIT_LOCKED

    def __init__(self, message: str, holder: Record) -> None:
        super().__init__(message)
        self.holder = holder


class LeaseLostError(EcschedError):
    """The lease was taken away, or could not be renewed, while held."""

    exit_code = EXIT_LOCKED


@dataclass
class HeldLease:
    key: str
    table: str
    owner: str
    token: str
    heartbeat: Heartbeat
    margin: float

    @property
    def expires_at(self) -> float:
        return self.heartbeat.expires_at

    @property
    def lost(self) -> str | None:
        """Why the lease is no longer safely ours (taken away, or about to expire unrenewed), or None."""
        if self.heartbeat.lost is not None:
            return self.heartbeat.lost
        if time.time() >= self.heartbeat.expires_at - self.margin:
            return f"it could not be renewed and expires at {fmt_time(self.heartbeat.expires_at)}"
        return None

    def check(self) -> None:
        """Raise LeaseLostError if the lease is lost: call it before each write."""
        if (why := self.lost) is not None:
            raise LeaseLostError(f"lock {self.key} in table {self.table} is no longer held: {why}; stopped "
                                 f"before the next write")


@contextlib.contextmanager
def hold(aws: AwsLike, table: str, key: str, *, wait_timeout: float,
         on_wait: Callable[[Record], None] | None = None, lease: float = DEFAULT_LEASE,
         what: str | None = None, log: Log | None = None, poll: float = 1.0) -> Iterator[HeldLease]:
    """Hold the lease `key` in `table` for the body of the `with`, renewed in the background.

    While another holder has it, `on_wait(holder)` is called once and the call waits up to
    `wait_timeout` seconds (0: not at all); then it raises LockHeldError (exit 75) naming the holder.
    A missing table, a missing permission or an unreachable DynamoDB raise EcschedError (exit 1)."""
    if lease < MIN_LEASE:
        raise ValueError(f"lease {lease}s: must be at least {MIN_LEASE:g}s")
    out = log or QuietLog()
    owner, _ = owner_identity(person=True)
    token = uuid.uuid4().hex
    try:
        locks = open_table(aws, table, lease)
        announced: list[Record] = []

        def keep_waiting(holder: Record, waited: float) -> bool:
            if not announced and waited < wait_timeout and on_wait is not None:
                on_wait(holder)
            announced.append(holder)
            return True

        taken = take(locks, key, owner, token, lease, wait_timeout=wait_timeout, keep_waiting=keep_waiting,
                     poll=poll, what=what)
    except LockTableError as e:
        raise EcschedError(str(e)) from e
    if not taken.acquired:
        assert taken.other is not None
        waited = f"; waited {format_duration(taken.waited)}" if wait_timeout > 0 else ""
        raise LockHeldError(f"lock {key} in table {table} is held by {taken.other.describe()} (lease expires "
                            f"{fmt_time(taken.other.expires_at)}){waited}: try again later", taken.other)
    if taken.other is not None:
        out.warn(f"lock {key}: took over the expired lease of {taken.other.describe()}, which was never "
                 f"released (killed, or cut off from DynamoDB)")
    heartbeat = Heartbeat(locks, key, token, lease, taken.expires_at, out)
    heartbeat.start()
    try:
        yield HeldLease(key, table, owner, token, heartbeat, margin_for(lease))
    finally:
        heartbeat.stop()
        try:
            locks.release(key, token)
        except Exception as e:
            out.warn(f"lock {key}: could not release the lease ({e}); it expires by itself at "
                     f"{fmt_time(heartbeat.expires_at)}")
