"""The watchdog of `ecsched lock`: a process of its own that stops the command before its lease can expire.

`ecsched lock` (the holder) starts it first, as the leader of a new process group, and then starts the
command in that group. The watchdog has its own timer and hears only renewals:

- the holder writes `R <expires_at>` to its stdin after each renewal that DynamoDB accepted;
- at (expiry - margin) without a renewal, it sends SIGTERM (and SIGCONT) to the whole group, and SIGKILL
  margin/2 later: before any contender can take the lease over (at expiry + 1 s at the earliest);
- `L <reason>` (the lease was taken away) or end-of-file without it (the holder is gone: SIGKILL, OOM)
  starts the same stop at once.

So the command stops in time whatever happens to the holder: stopped (SIGSTOP, Ctrl-Z), hung on a
blocked stderr, or killed with the command's children still running. The watchdog ignores the signals
sent to the group (the holder forwards SIGTERM/SIGINT/SIGHUP there), and the final SIGKILL of the group
ends the watchdog too. It signals first and writes its note afterwards, from a thread, so that output
never delays a signal.

Standard library only, and nothing from ecsched: it runs as `python -I -S watchdog.py` (about 20 ms).
usage: watchdog.py KEY MARGIN EXPIRES_AT HOLDER_PID
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable

# The signals a group receives from ecsched, a terminal or an operator; SIGKILL/SIGSTOP cannot be ignored.
IGNORED = ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGPIPE", "SIGUSR1",
           "SIGUSR2", "SIGALRM")
READY = b"ready\n"


class Watch:
    """The decisions, on a monotonic clock; `main` does the waiting and the signalling."""

    def __init__(self, margin: float, expires_at: float, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.margin = margin
        self._clock, self._wall = clock, wall
        self.expiry = self._local(expires_at)
        self.stop_requested: str | None = None
        self.term_at: float | None = None
        self.killed = False

    def _local(self, expires_at: float) -> float:
        # Converted when heard: never later than the holder's own view of it.
        return self._clock() + (expires_at - self._wall())

    def renewed(self, expires_at: float) -> None:
        self.expiry = max(self.expiry, self._local(expires_at))

    def stop(self, reason: str) -> None:
        if self.stop_requested is None:
            self.stop_requested = reason

    def kill_at(self) -> float:
        assert self.term_at is not None
        return min(self.term_at + self.margin / 2, self.expiry - self.margin / 2)

    def due(self) -> str | None:
        """"TERM" or "KILL" when one is due now, else None."""
        now = self._clock()
        if self.term_at is None:
            if self.stop_requested is not None or now >= self.expiry - self.margin:
                self.term_at = now
                return "TERM"
            return None
        if not self.killed and now >= self.kill_at():
            self.killed = True
            return "KILL"
        return None

    def wake_in(self) -> float:
        if self.killed:
            return 1.0
        at = self.expiry - self.margin if self.term_at is None else self.kill_at()
        return max(0.0, at - self._clock())


# `_note`, `_signal` and `main` run only in the watchdog's own process (`python -I -S`, where coverage is
# not measured); tests/test_lock_watchdog.py runs them with real processes and signals.
def _note(text: str) -> None:  # pragma: no cover
    """Written from a thread nobody waits for: a blocked stderr must not delay the next signal."""

    def write() -> None:
        try:
            os.write(2, text.encode("utf-8", "replace"))
        except OSError:
            pass

    threading.Thread(target=write, daemon=True).start()


def _signal(pgid: int, sig: int) -> None:  # pragma: no cover
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: list[str]) -> int:  # pragma: no cover
    key, margin, expires_at, holder = argv[1], float(argv[2]), float(argv[3]), argv[4]
    for name in IGNORED:
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, signal.SIG_IGN)
    pgid = os.getpgrp()
    os.write(1, READY)  # fd 1 stays open: its end-of-file tells the holder that the watchdog is gone
    watch = Watch(margin, expires_at)
    channel: int | None = 0
    pending = b""
    while True:
        action = watch.due()
        if action == "TERM":
            _signal(pgid, signal.SIGTERM)
            _signal(pgid, signal.SIGCONT)  # a stopped command handles its SIGTERM only once continued
            why = watch.stop_requested or (
                f"the lease was not renewed in time (ecsched lock, pid {holder}, is stopped, hung or cut off "
                f"from DynamoDB)")
            _note(f"ecsched: error: lock {key}: watchdog: {why}; sent SIGTERM to the command's process "
                  f"group, SIGKILL follows in {max(0.0, watch.kill_at() - time.monotonic()):.1f}s\n")
        elif action == "KILL":
            _signal(pgid, signal.SIGKILL)  # the watchdog is in the group: this ends it too
            return 0
        timeout = watch.wake_in()
        if channel is None:
            time.sleep(timeout)
            continue
        readable, _, _ = select.select([channel], [], [], timeout)
        if not readable:
            continue
        data = os.read(channel, 4096)
        if not data:
            channel = None
            watch.stop(f"ecsched lock (pid {holder}) is gone while its command still runs")
            continue
        *lines, pending = (pending + data).split(b"\n")
        for line in lines:
            kind, _, rest = line.decode("utf-8", "replace").partition(" ")
            if kind == "R":
                try:
                    watch.renewed(float(rest))
                except ValueError:
                    watch.stop(f"garbled message from ecsched lock: {line!r}")
            elif kind == "L":
                watch.stop(f"the lease was lost ({rest})")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv))
