"""One writer at a time per trackingId and region: the lease that apply (and migrate, disable/enable --now)
hold in the config's `lockTable`, with the lease code of `ecsched lock`.

    with lease.hold(cfg, aws, LeaseOptions(wait=120), sink, command="migrate"):
        ...  # read the live state here, after the lease is held, then write

- The lease code is `ecsched.lock.lease.hold` (one lease per key); until the lock helper's package is in
  this tree, the same protocol runs here on `ecsched.lock.LockTable`.
- With no `lockTable` in the config nothing is held, and the first run in a process warns once.
- A lease held by another run: wait up to `wait` seconds (--lock-timeout), then exit 75 naming the holder.
  The caller reads the live state only inside the block, so a run that waited sees the other's writes.
- A lease renewal that fails for good (another took it over) stops the run's remaining AWS calls.
- `--no-lock` (`LeaseOptions(enabled=False)`) holds nothing: for emergencies, when the table is broken.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecsched.errors import EcschedError
from ecsched.sync.options import Sink
from ecsched.sync.scope import file_owner

if TYPE_CHECKING:
    from ecsched.aws import Aws
    from ecsched.config import Config

EXIT_LOCKED = 75  # EX_TEMPFAIL, as `ecsched lock` exits when the lock is held
DEFAULT_LEASE = 60.0  # seconds; renewed every third of it
_warned_no_table = False


class Locked(EcschedError):
    """Another run holds the lease: nothing was read or written."""

    exit_code = EXIT_LOCKED


@dataclass(frozen=True)
class LeaseOptions:
    enabled: bool = True  # False: --no-lock
    wait: float = 0.0  # --lock-timeout: seconds to wait for another run's lease
    lease: float = DEFAULT_LEASE
    poll: float = 1.0


def state_key(tracking_id: str, region: str) -> str:
    """The lease key of one trackingId in one region (the same as `ecsched.lock.lease.state_key`)."""
    return f"ecsched/{tracking_id}/{region}"


def keys(cfg: Config, region: str) -> list[str]:
    """The lease keys of a config: one per (trackingId, region) its files write, sorted (taken in order, so
    two runs over overlapping configs never wait on each other in a circle)."""
    from ecsched.ownership import cluster_name

    out: set[str] = set()
    for f in cfg.files:
        if not f.data.get("cluster") and not f.data.get("trackingId"):
            continue
        regions = {str(f.data.get("region") or region)}
        regions |= {str(r["region"]) for r in f.data.get("rules") or [] if isinstance(r, dict) and r.get("region")}
        # A cluster's name and its ARN are one owner: one lease for both spellings.
        out |= {state_key(cluster_name(file_owner(f.data)), r) for r in regions}
    return sorted(out)


def owner(command: str) -> str:
    """Who holds it, as the next run will read it: the CI run when there is one, else host and pid."""
    run = os.environ.get("GITHUB_RUN_ID")
    where = (f"GitHub Actions run {os.environ.get('GITHUB_REPOSITORY', '')}#{run}" if run
             else f"{socket.gethostname()}:{os.getpid()}")
    return f"ecsched {command} on {where}"


def _table(aws: Aws, name: str, lease: float) -> Any:
    try:  # the lock helper's split (ecsched.lock.table), or the single module before it
        from ecsched.lock.table import LockTable  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        from ecsched.lock import LockTable  # type: ignore[attr-defined, unused-ignore]
    from botocore.config import Config as BotoConfig

    timeout = max(1.0, min(5.0, lease / 4))  # a renewal fails fast rather than hang past the lease
    cfg = BotoConfig(connect_timeout=timeout, read_timeout=timeout, retries={"mode": "standard", "max_attempts": 3})
    client = aws.session.client("dynamodb", region_name=aws.region, config=cfg)
    return LockTable(client, name, aws.region)


@contextmanager
def hold(cfg: Config, aws: Aws, opts: LeaseOptions, sink: Sink, *, command: str = "apply") -> Iterator[list[str]]:
    """Hold the config's leases for the block; yields the keys held (none without a lockTable)."""
    global _warned_no_table
    table_name = cfg.setting("lockTable")
    if not opts.enabled:
        sink.warn(f"--no-lock: {command} runs without the lease; another apply may interleave with it")
        yield []
        return
    if not table_name:
        if not _warned_no_table:
            _warned_no_table = True
            sink.warn(f"no lockTable in the config: nothing stops two {command}s of this config from "
                      "interleaving; set `lockTable:` or use a CI concurrency group (docs/ci.md)")
        yield []
        return
    held = keys(cfg, aws.region)
    take = _lock_api()
    if take is None:
        with _hold_here(aws, str(table_name), held, opts, sink, command):
            yield held
        return
    with ExitStack() as stack:
        leases = []
        for key in held:

            def on_wait(holder: Any, key: str = key) -> None:
                sink.info(f"waiting up to {opts.wait:g} s for lease {key}, held by {holder.describe()}")

            leases.append(stack.enter_context(take(aws, str(table_name), key, wait_timeout=opts.wait,
                                                   on_wait=on_wait, lease=opts.lease, what=command,
                                                   log=_Log(sink))))
        watch = _Watch(lambda: next((why for lease in leases if (why := lease.lost) is not None), None), aws, sink,
                       opts.lease / 6)
        watch.start()
        stack.callback(watch.stop)
        yield held


def _lock_api() -> Any:
    """`ecsched.lock.lease.hold`, the lease code of `ecsched lock`, when this tree has it."""
    try:
        from ecsched.lock.lease import hold as take  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    return take


class _Log:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def info(self, message: str) -> None:
        self.sink.info(message)

    def warn(self, message: str) -> None:
        self.sink.warn(message)

    def error(self, message: str) -> None:
        self.sink.warn(message)


class _Watch(threading.Thread):
    """Stops the run's AWS calls as soon as a lease is lost: another run may be writing now."""

    def __init__(self, lost: Callable[[], str | None], aws: Aws, sink: Sink, every: float) -> None:
        super().__init__(name="ecsched-lease-watch", daemon=True)
        self.lost, self.aws, self.sink, self.every = lost, aws, sink, max(0.1, every)
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.every):
            why = self.lost()
            if why is not None:
                self.aws.pacer.cancelled = True
                self.sink.warn(f"the lease was lost ({why}): stopping; run again to finish")
                return

    def stop(self) -> None:
        self._halt.set()


@contextmanager
def _hold_here(aws: Aws, table_name: str, held: list[str], opts: LeaseOptions, sink: Sink,
               command: str) -> Iterator[None]:
    """The same lease with the lock table of this tree, until `ecsched.lock.lease.hold` is here."""
    table = _table(aws, table_name, opts.lease)
    me, token = owner(command), uuid.uuid4().hex
    taken: list[str] = []
    renewer: _Renewer | None = None
    try:
        for key in held:
            _acquire(table, key, me, token, opts, sink)
            taken.append(key)
        renewer = _Renewer(table, taken, token, opts.lease, aws, sink)
        renewer.start()
        yield
    finally:
        if renewer is not None:
            renewer.stop()
        for key in reversed(taken):
            try:
                table.release(key, token)
            except Exception as e:  # it expires by itself
                sink.warn(f"lease {key}: not released ({e}); it expires within {opts.lease:.0f} s")


def _acquire(table: Any, key: str, me: str, token: str, opts: LeaseOptions, sink: Sink) -> None:
    deadline = time.monotonic() + max(0.0, opts.wait)
    said = False
    while True:
        ok, other, _expires = table.acquire(key, me, token, opts.lease)
        if ok:
            return
        holder = other.describe() if other is not None else "another run"
        if time.monotonic() >= deadline:
            waited = f" after waiting {opts.wait:g} s" if opts.wait else ""
            raise Locked(f"lock {key} in table {table.name} is held by {holder}{waited}: another apply of "
                         "this trackingId and region is running. Nothing was changed; try again later "
                         "(--lock-timeout SECONDS waits for it)")
        if not said:
            sink.info(f"waiting up to {opts.wait:g} s for lease {key}, held by {holder}")
            said = True
        time.sleep(min(opts.poll, max(0.05, deadline - time.monotonic())))


class _Renewer(threading.Thread):
    """Renews every lease at a third of its length. When one is lost for good, the run stops sending."""

    def __init__(self, table: Any, held: list[str], token: str, lease: float, aws: Aws, sink: Sink) -> None:
        super().__init__(name="ecsched-lease", daemon=True)
        self.table, self.held, self.token, self.lease, self.aws, self.sink = table, held, token, lease, aws, sink
        self._halt = threading.Event()

    def run(self) -> None:
        expires = time.monotonic() + self.lease
        while not self._halt.wait(self.lease / 3):
            try:
                for key in self.held:
                    self.table.renew(key, self.token, self.lease)
                expires = time.monotonic() + self.lease
            except Exception as e:
                lost = type(e).__name__ == "LeaseLost" or time.monotonic() > expires - self.lease / 6
                if lost:
                    self.aws.pacer.cancelled = True  # another run may write now: send nothing more
                    self.sink.warn(f"the lease was lost ({e}): stopping; run again to finish")
                    return

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(timeout=0.5)
