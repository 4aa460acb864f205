"""Where `run` talks: the sink the engine writes to, and its terminal implementation.

On a terminal (stderr), a rich live status line sits at the bottom, cut to the width so it never wraps
(a wrapped line used to leave a stale row on every refresh); notes, warnings and log lines print above it.
Off a terminal, every line is plain, exact text, and each status change is a line of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:
    from ecsched.term import Term


class Output(Protocol):
    """What the engine says. `live` tells whether a status line is shown (else the engine prints status
    changes as notes)."""

    live: bool

    def log(self, line: str) -> None: ...  # a container's log line
    def note(self, text: str) -> None: ...  # progress, for the person watching (stderr)
    def warn(self, text: str) -> None: ...
    def error(self, text: str) -> None: ...
    def status(self, text: str) -> None: ...  # the live line; ignored when `live` is false
    def start(self) -> None: ...
    def stop(self) -> None: ...


class TermOutput:
    """Output on real streams. Log lines go to `out` (stdout), or to stderr with `logs_to_stderr`
    (--format json keeps stdout for the one JSON object). `live=False` never draws a status line, nor
    imports rich (--format json)."""

    def __init__(self, out: TextIO, err: Term, *, logs_to_stderr: bool = False, live: bool = True) -> None:
        self.out = out
        self.err = err
        self.logs_to_stderr = logs_to_stderr
        self.live = live and err.is_terminal
        self._live: Any = None  # rich.live.Live while started

    def start(self) -> None:
        if self.live and self._live is None:
            self._live = self.err.live()
            self._live.start()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _above(self, text: str) -> None:
        """A line above the status line (rich keeps the line at the bottom), exact: no markup, no wrap."""
        from rich.text import Text

        self._live.console.print(Text.from_ansi(text), soft_wrap=True, markup=False, highlight=False)

    def _err_line(self, text: str) -> None:
        if self._live is not None:
            self._above(text)
        else:
            print(text, file=self.err.stream, flush=True)

    def log(self, line: str) -> None:
        stream = self.err.stream if self.logs_to_stderr else self.out
        # stdout on the same terminal: print through the live console, or the status line would be torn.
        if self._live is not None and (stream is self.err.stream or _isatty(stream)):
            self._above(line)
        else:
            print(line, file=stream, flush=True)

    def note(self, text: str) -> None:
        self._err_line(text)

    def warn(self, text: str) -> None:
        self._err_line(f"ecsched: {self.err.paint('warning:', 'warning')} {text}")

    def error(self, text: str) -> None:
        self._err_line(f"ecsched: {self.err.paint('error:', 'error')} {text}")

    def status(self, text: str) -> None:
        if self._live is not None:
            from rich.text import Text

            self._live.update(Text(self.err.cut(text), no_wrap=True, overflow="ellipsis"))


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False

