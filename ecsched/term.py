"""The terminal: one place decides colour and width, and rich draws every human view.

Colour (`--color auto|always|never`):
- `never`/`always` win; then `NO_COLOR` (only when non-empty) turns it off, `FORCE_COLOR` (non-empty, not
  "0") turns it on, `TERM=dumb` turns it off; GitHub Actions' logs render colour although they are no
  terminal; otherwise colour is on for a terminal only.

rich is imported only when something is drawn for a person on a colour terminal or a live display is
shown: `--help`, `validate` and `--format json` never import it. Piped output stays plain, exact text.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

ColorMode = Literal["auto", "always", "never"]
COLOR_MODES: tuple[ColorMode, ...] = ("auto", "always", "never")

# Styles by meaning, so every view paints the same thing the same way.
STYLES = {
    "create": "green", "+": "green",
    "delete": "red", "-": "red",
    "update": "yellow", "~": "yellow",
    "conflict": "bold red", "!": "bold red",
    "hunk": "cyan", "@": "cyan",
    "error": "red", "warning": "yellow", "ok": "green",
    "heading": "bold", "dim": "dim",
}


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


def color_enabled(mode: ColorMode, stream: TextIO, env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    if mode == "never":
        return False
    if mode == "always":
        return True
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR") and env["FORCE_COLOR"].lower() not in ("0", "false", "no"):
        return True
    if env.get("TERM") == "dumb":
        return False
    if env.get("GITHUB_ACTIONS") == "true":
        return True
    return _isatty(stream)


@dataclass
class Term:
    """One output stream and how to draw on it."""

    stream: TextIO
    color: bool
    _console: Console | None = field(default=None, repr=False)

    @classmethod
    def for_stream(cls, stream: TextIO, mode: ColorMode = "auto") -> Term:
        return cls(stream=stream, color=color_enabled(mode, stream))

    @property
    def is_terminal(self) -> bool:
        return _isatty(self.stream)

    @property
    def width(self) -> int:
        """The terminal's width; 80 when not a terminal (for rich's tables when piped)."""
        if self.is_terminal:
            try:  # this stream's terminal: stdout may be piped while stderr is a terminal
                columns = int(os.environ.get("COLUMNS") or 0) or os.get_terminal_size(self.stream.fileno()).columns
            except (OSError, ValueError, AttributeError):
                columns = shutil.get_terminal_size((80, 24)).columns
            return max(20, columns)
        return 80

    def console(self) -> Console:
        """rich's Console on this stream: colour as decided above, the terminal's width, no guessing."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(
                file=self.stream,
                force_terminal=self.color or None,
                no_color=not self.color,
                color_system="standard" if self.color else None,
                highlight=False,
                emoji=False,
                width=self.width if self.is_terminal else None,
                soft_wrap=not self.is_terminal,
            )
        return self._console

    def paint(self, text: str, style: str) -> str:
        """`text` with the style (a rich style or a name from STYLES), as ANSI codes when colour is on."""
        if not self.color or not text:
            return text
        from rich.color import ColorSystem
        from rich.style import Style

        return Style.parse(STYLES.get(style, style)).render(text, color_system=ColorSystem.STANDARD)

    def cut(self, line: str) -> str:
        """One line cut to the terminal's width, so a status line never wraps (a wrapped line leaves a
        stale row on each refresh)."""
        if not self.is_terminal:
            return line
        limit = self.width - 1
        return line if len(line) <= limit else line[: max(0, limit - 1)] + "…"

    def write(self, text: str = "") -> None:
        print(text, file=self.stream)

    def print(self, renderable: Any) -> None:
        """A rich renderable (table, chart) on a terminal, or its plain text when piped."""
        self.console().print(renderable)

    def live(self, renderable: Any = "", *, refresh_per_second: float = 4) -> Live:
        """A live region (status line) at the bottom; `.console.print` writes lines above it.
        Transient: it disappears when closed, leaving only what was printed."""
        from rich.live import Live

        return Live(renderable, console=self.console(), refresh_per_second=refresh_per_second, transient=True,
                    redirect_stdout=False, redirect_stderr=False)


def stdout(mode: ColorMode = "auto") -> Term:
    return Term.for_stream(sys.stdout, mode)


def stderr(mode: ColorMode = "auto") -> Term:
    return Term.for_stream(sys.stderr, mode)
