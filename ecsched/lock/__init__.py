"""Locks in a DynamoDB table: `ecsched lock` runs a command under one, and ecsched's own writes hold one.

Modules, by concern:
- `table`: the DynamoDB items and the conditional writes (acquire, renew, release, dedupe records);
- `lease`: holding a lease (take or wait, renew in the background, release) and `hold()`, the API for
  `apply`, `migrate` and `disable --now`;
- `process`: the command's process group, signal forwarding and supervision;
- `watchdog`: the separate process that stops the command before its lease can expire;
- `locked`: `ecsched lock`'s run, which puts them together;
- `identity` (who holds it) and `formatting` (times, durations, a log that never blocks).

Importing this package imports neither boto3 nor anything platform-specific: it works on every system,
and `process.unsupported()` says where `ecsched lock` cannot run a command.
"""

from __future__ import annotations

from ecsched.lock.formatting import QueuedLog, fmt_time
from ecsched.lock.identity import owner_identity, region_of_arn
from ecsched.lock.lease import (
    DEFAULT_LEASE,
    MIN_LEASE,
    HeldLease,
    LeaseLostError,
    LockHeldError,
    hold,
    margin_for,
    state_key,
)
from ecsched.lock.locked import LockOptions, run_locked
from ecsched.lock.process import shell_exit_code, unsupported
from ecsched.lock.table import (
    EXIT_LOCKED,
    EXIT_NOT_RUN,
    LockTable,
    LockTableError,
    Record,
    open_table,
    resolve_table,
)

__all__ = [
    "DEFAULT_LEASE", "EXIT_LOCKED", "EXIT_NOT_RUN", "MIN_LEASE", "HeldLease", "LeaseLostError", "LockHeldError",
    "LockOptions", "LockTable", "LockTableError", "QueuedLog", "Record", "fmt_time", "hold",
    "margin_for", "open_table", "owner_identity", "region_of_arn", "resolve_table", "run_locked",
    "shell_exit_code", "state_key", "unsupported",
]
