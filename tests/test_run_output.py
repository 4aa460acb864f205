"""ecsched.run.output: the live status line on a terminal (rich), plain exact lines elsewhere."""

from __future__ import annotations

import io
import re

import pytest

from ecsched.run.output import TermOutput
from ecsched.term import Term


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def test_off_a_terminal_every_line_is_plain_and_exact():
    out, err = io.StringIO(), io.StringIO()
    o = TermOutput(out, Term(err, color=False))
    assert not o.live
    o.start()
    o.status("never shown")
    o.log("[bold]not markup[/bold] \x1b[31mred\x1b[0m")
    o.note("ecsched: started x")
    o.warn("careful")
    o.error("broken")
    o.stop()
    assert out.getvalue() == "[bold]not markup[/bold] \x1b[31mred\x1b[0m\n"
    assert err.getvalue() == "ecsched: started x\necsched: warning: careful\necsched: error: broken\n"


def test_json_logs_go_to_stderr_and_no_live_line_even_on_a_terminal():
    out, err = io.StringIO(), TTY()
    o = TermOutput(out, Term(err, color=False), logs_to_stderr=True, live=False)
    o.start()
    o.log("a log line")
    o.status("never shown")
    o.stop()
    assert out.getvalue() == ""
    assert err.getvalue() == "a log line\n"


def test_on_a_terminal_the_status_line_is_cut_to_the_width_and_lines_print_above_it(monkeypatch):
    monkeypatch.setenv("COLUMNS", "30")
    out, err = io.StringIO(), TTY()
    o = TermOutput(out, Term(err, color=False))
    assert o.live
    o.start()
    long = "nightly-report: 0123456789ab RUNNING  1m5s"
    o.status(long)
    o.log("a log line longer than the thirty columns of this terminal")  # stdout is a pipe: stays there
    o.note("ecsched: a note [red]that is not markup[/red]")
    o.stop()
    text = err.getvalue()
    # Every row rich drew for the status line fits: a wrapped line would leave a stale row on each refresh.
    drawn = [plain(row) for row in re.split(r"\r|\n", text)]
    assert any(row.startswith("nightly-report: 01234") for row in drawn)
    assert all(len(row) <= 30 for row in drawn if row.startswith("nightly-report"))
    assert long not in plain(text)
    assert "ecsched: a note [red]that is not markup[/red]" in plain(text)  # whole: notes are not cut
    assert out.getvalue() == "a log line longer than the thirty columns of this terminal\n"


@pytest.mark.parametrize("stdout_is_tty", [True, False])
def test_log_lines_to_the_same_terminal_go_above_the_status_line(monkeypatch, stdout_is_tty):
    monkeypatch.setenv("COLUMNS", "80")
    out, err = (TTY() if stdout_is_tty else io.StringIO()), TTY()
    o = TermOutput(out, Term(err, color=False))
    o.start()
    o.status("r: 0123 RUNNING  1s")
    o.log("hello from the task")
    o.stop()
    # On a terminal, through rich's live console (which redraws the status line below it); piped, exact.
    assert ("hello from the task" in plain(err.getvalue())) is stdout_is_tty
    assert (out.getvalue() == "hello from the task\n") is not stdout_is_tty
