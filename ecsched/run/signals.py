"""SIGINT and SIGTERM become flags the poll loop reads, so a signal never lands inside an AWS call."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Signals:
    def __init__(self) -> None:
        self.received: list[int] = []
        self.handled = 0  # how many of `received` the loop has acted on

    @property
    def pending(self) -> bool:
        return len(self.received) > self.handled

    def take(self) -> str:
        """The name of the first signal not acted on yet; marks all received so far as handled."""
        name = signal.Signals(self.received[self.handled]).name
        self.handled = len(self.received)
        return name

    def _handler(self, signum: int, frame: Any) -> None:
        self.received.append(signum)

    @contextmanager
    def installed(self) -> Iterator[Signals]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self._handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, h in previous.items():
                signal.signal(s, h)


def exit_code_after(name: str) -> int:
    """128+N, as a shell reports a process killed by signal N (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + int(signal.Signals[name])
