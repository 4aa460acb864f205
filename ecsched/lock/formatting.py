"""How the lock prints times, and a log that never blocks the lock's own work.

A log line must never stand between a lost lease and the signal that stops the command: when stderr
blocks (a full pipe, a log driver stalled by the same network fault that stopped the renewals), a plain
`print` would hang the thread that signals or renews. `QueuedLog` hands each line to a writer thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol


def fmt_time(ts: float | None) -> str:
    """Epoch seconds as UTC ISO 8601, to the second; `?` when unknown."""
    if ts is None:
        return "?"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Log(Protocol):
    def info(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def error(self, message: str) -> None: ...


class QuietLog:
    """For callers that want no messages (the lease API's default)."""

    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def error(self, message: str) -> None:
        pass


class QueuedLog:
    """Writes through `target` on its own thread, in order; callers never wait for the stream."""

    def __init__(self, target: Log) -> None:
        self._target = target
        self._lines: queue.Queue[tuple[Callable[[str], None], str] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._write, name="ecsched-lock-log", daemon=True)
        self._thread.start()

    def _write(self) -> None:
        while (entry := self._lines.get()) is not None:
            emit, message = entry
            try:
                emit(message)
            except Exception:  # a closed stream: nothing better to do with the line
                pass

    def info(self, message: str) -> None:
        self._lines.put((self._target.info, message))

    def warn(self, message: str) -> None:
        self._lines.put((self._target.warn, message))

    def error(self, message: str) -> None:
        self._lines.put((self._target.error, message))

    def close(self, timeout: float) -> bool:
        """Wait up to `timeout` for the lines to be written. False if the stream is still blocked."""
        self._lines.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()
