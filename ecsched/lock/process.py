"""Running the command under the lock: its process group, its watchdog, signal forwarding, supervision.

The process group is led by the watchdog (see `watchdog.py`), and the command joins it. So:
- every signal ecsched sends reaches the command's children too (`sh -c 'worker & wait'`, a PHP pool);
- the group id is the watchdog's pid, which ecsched reaps last: the id cannot be reused by another
  process while ecsched may still signal it, and the command itself can be reaped at any time (no
  `os.waitid(WNOWAIT)`, which macOS lacks before Python 3.13);
- the watchdog, not this process, enforces the lease deadline.

Portability: process groups and POSIX signals are needed (Linux, macOS). Nothing here touches a
platform-specific name at import time, so `import ecsched.lock` works everywhere; `unsupported()` says
why `ecsched lock` cannot run a command where it cannot.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from ecsched.errors import EcschedError
from ecsched.lock.formatting import Log, fmt_time
from ecsched.lock.table import EXIT_NOT_RUN

EXIT_CANNOT_EXEC = 126
EXIT_NOT_FOUND = 127
FORWARDED = ("SIGTERM", "SIGINT", "SIGHUP")  # by name: SIGHUP does not exist on Windows
WATCHDOG_START_TIMEOUT = 15.0


def unsupported() -> str | None:
    """Why this system cannot run `ecsched lock`, or None."""
    if os.name != "posix" or not hasattr(os, "killpg") or not hasattr(signal, "SIGKILL"):
        return (f"`ecsched lock` needs POSIX process groups and signals (Linux or macOS), which "
                f"{sys.platform} lacks; run it in the Linux container of the task")
    return None


def shell_exit_code(returncode: int) -> int:
    """A child's `Popen.returncode` as a shell reports it: 128+N when signal N killed it."""
    return 128 - returncode if returncode < 0 else returncode


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def forwarded_signals() -> list[int]:
    return [int(getattr(signal, name)) for name in FORWARDED if hasattr(signal, name)]


class SignalForwarder:
    """SIGTERM/SIGINT/SIGHUP go to the command's process group once it runs; before that they abort the
    wait.

    A signal that arrives after the last pre-start check but before `attach` is kept in `pending` and
    delivered by `attach`: it is never lost, and never delivered twice."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.pending: list[int] = []
        self.pgid: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> SignalForwarder:
        if threading.current_thread() is threading.main_thread():
            for sig in forwarded_signals():
                old = signal.getsignal(sig)
                if old == signal.SIG_IGN:
                    continue  # e.g. nohup: the child inherits the ignore, we do not undo it
                self._old[sig] = old
                signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)

    def _handle(self, signum: int, frame: object) -> None:
        # Handlers run in the main thread between bytecodes: `self.pgid` is either set or not.
        self.received.append(signum)
        if self.pgid is None:
            self.pending.append(signum)
        else:
            signal_group(self.pgid, signum)

    def attach(self, pgid: int) -> None:
        """From now on signals go to the group; those that came in while it was being started follow."""
        self.pgid = pgid
        while self.pending:
            signal_group(pgid, self.pending.pop(0))

    def interrupted(self) -> int | None:
        return self.received[0] if self.received else None


class Watchdog:
    """ecsched's end of the watchdog process (see `watchdog.py`)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.pgid = proc.pid  # it leads the group
        assert proc.stdin is not None and proc.stdout is not None
        self._to: IO[bytes] = proc.stdin
        self._from: IO[bytes] = proc.stdout
        self._gone = False
        self._closed = False

    @classmethod
    def start(cls, key: str, margin: float, expires_at: float) -> Watchdog:
        script = Path(__file__).with_name("watchdog.py")
        # -I -S: no site, no environment: it starts in tens of milliseconds and imports only the stdlib.
        argv = [sys.executable, "-I", "-S", str(script), key, repr(margin), repr(float(expires_at)),
                str(os.getpid())]
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, process_group=0)
        except OSError as e:
            raise EcschedError(f"lock {key}: cannot start the watchdog ({sys.executable}): {e}; the command "
                               f"was not run", exit_code=EXIT_NOT_RUN) from e
        dog = cls(proc)
        # Its signals must be ignored before anything is forwarded to the group: wait until it says so.
        readable, _, _ = select.select([dog._from], [], [], WATCHDOG_START_TIMEOUT)
        if not readable or dog._from.readline() != b"ready\n":
            dog.close()
            raise EcschedError(f"lock {key}: the watchdog did not start; the command was not run",
                               exit_code=EXIT_NOT_RUN)
        os.set_blocking(dog._to.fileno(), False)  # a renewal note never waits for the watchdog
        return dog

    def _send(self, line: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # gone, or closed: supervise() notices
            self._to.write(line.encode("utf-8", "replace") + b"\n")
            self._to.flush()

    def renewed(self, expires_at: float) -> None:
        self._send(f"R {expires_at!r}")

    def lost(self, reason: str) -> None:
        self._send("L " + " ".join(reason.split()))

    def gone(self) -> bool:
        """Whether the watchdog exited (its stdout reached end-of-file), without reaping it."""
        if not self._gone and select.select([self._from], [], [], 0)[0]:
            self._gone = os.read(self._from.fileno(), 1) == b""
        return self._gone

    def close(self) -> None:
        """SIGKILL the group (the command's leftovers and the watchdog), then reap the watchdog."""
        if self._closed:
            return
        self._closed = True
        signal_group(self.pgid, signal.SIGKILL)
        self.proc.wait()
        for pipe in (self._to, self._from):
            with contextlib.suppress(OSError):
                pipe.close()


def die_with_parent() -> Callable[[], None] | None:
    """Linux: the command gets SIGKILL if ecsched itself dies (SIGKILL, OOM). Its own children are
    stopped by the watchdog through the group."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:  # pragma: no cover - runs in the forked child
        prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # parent already gone before prctl took effect
            os._exit(EXIT_NOT_RUN)

    return preexec


def start_command(command: list[str], pgid: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, preexec_fn=die_with_parent(), process_group=pgid)


class LeaseView(Protocol):
    """What the supervisor reads of the heartbeat: has the lease been lost, and until when does it run."""

    @property
    def lost(self) -> str | None: ...
    @property
    def expires_at(self) -> float: ...


def supervise(child: subprocess.Popen[bytes], dog: Watchdog, lease: LeaseView, key: str, margin: float,
              log: Log) -> int:
    """Wait for the command; on its exit, kill whatever it left in its group. Returns its exit code.

    The watchdog stops the command when the lease runs out; this only reports it, after the fact, and
    stands in for a watchdog that died."""
    dog_reported = lease_reported = False
    while True:
        code = child.poll()
        if code is not None:
            dog.close()  # nothing the command started runs on without the lock
        if not dog_reported and code is None and dog.gone():
            signal_group(dog.pgid, signal.SIGKILL)
            if not lease_reported:  # otherwise the watchdog ended the group, itself included, as it should
                log.error(f"lock {key}: the watchdog exited; stopped the command (SIGKILL), as nothing would "
                          f"stop it before its lease expires")
            dog_reported = True
        lost = lease.lost
        if not lease_reported and (lost is not None or time.time() >= lease.expires_at - margin):
            why = (f"the lease was lost: {lost}" if lost is not None
                   else f"the lease could not be renewed and expires at {fmt_time(lease.expires_at)}")
            log.error(f"lock {key}: {why}; the command is stopped (SIGTERM, then SIGKILL) so that two holders "
                      f"never run together")
            lease_reported = True
        if code is not None:
            return shell_exit_code(code)
        time.sleep(0.05)
