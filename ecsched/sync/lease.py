"""One writer at a time per trackingId and region: the lease that apply (and migrate, disable/enable --now)
hold in the config's `lockTable`, with the lease code of `ecsched lock` (`ecsched.lock.lease.hold`).

    with lease.hold(cfg, aws, LeaseOptions(wait=120), sink, command="migrate"):
        ...  # read the live state here, after the lease is held, then write

- With no `lockTable` in the config nothing is held, and the first run in a process warns once.
- A lease held by another run: wait up to `wait` seconds (--lock-timeout), then exit 75 naming the holder
  (`ecsched.lock.LockHeldError`). The caller reads the live state only inside the block, so a run that
  waited sees the other's writes.
- A lease lost during the run (taken over after it expired unrenewed) stops the run's remaining AWS calls.
- `--no-lock` (`LeaseOptions(enabled=False)`) holds nothing: for emergencies, when the table is broken.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ecsched.sync.options import Sink
from ecsched.sync.scope import file_owner

if TYPE_CHECKING:
    from ecsched.aws import Aws
    from ecsched.config import Config
    from ecsched.lock.table import Record

DEFAULT_LEASE = 60.0  # seconds; renewed every third of it
_warned_no_table = False


@dataclass(frozen=True)
class LeaseOptions:
    enabled: bool = True  # False: --no-lock
    wait: float = 0.0  # --lock-timeout: seconds to wait for another run's lease
    lease: float = DEFAULT_LEASE


def keys(cfg: Config, region: str) -> list[str]:
    """The lease keys of a config: one per (trackingId, region) its files write, sorted (taken in order, so
    two runs over overlapping configs never wait on each other in a circle)."""
    from ecsched.lock.lease import state_key
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


@contextmanager
def hold(cfg: Config, aws: Aws, opts: LeaseOptions, sink: Sink, *, command: str = "apply") -> Iterator[list[str]]:
    """Hold the config's leases for the block; yields the keys held (none without a lockTable)."""
    global _warned_no_table
    table = cfg.setting("lockTable")
    if not opts.enabled:
        sink.warn(f"--no-lock: {command} runs without the lease; another apply may interleave with it")
        yield []
        return
    if not table:
        if not _warned_no_table:
            _warned_no_table = True
            sink.warn(f"no lockTable in the config: nothing stops two {command}s of this config from "
                      "interleaving; set `lockTable:` or use a CI concurrency group (docs/ci.md)")
        yield []
        return
    from ecsched.lock.lease import hold as take

    held = keys(cfg, aws.region)
    with ExitStack() as stack:
        leases = []
        for key in held:

            def on_wait(holder: Record, key: str = key) -> None:
                sink.info(f"waiting up to {opts.wait:g} s for lease {key}, held by {holder.describe()}")

            leases.append(stack.enter_context(take(aws, str(table), key, wait_timeout=opts.wait, on_wait=on_wait,
                                                   lease=opts.lease, what=command, log=_Log(sink))))
        watch = _Watch(lambda: next((why for lease in leases if (why := lease.lost) is not None), None), aws, sink,
                       opts.lease / 6)
        watch.start()
        stack.callback(watch.stop)
        yield held


class _Log:
    """The lock's log (info, warn, error) on the engine's sink."""

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
