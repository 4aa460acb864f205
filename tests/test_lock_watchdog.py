"""The lock never runs two copies: the watchdog stops the first copy before a contender can take over.

Each scenario starts a first copy under `ecsched lock --lease 2s`, breaks its holder (stderr blocked and
DynamoDB cut, SIGSTOP, Ctrl-Z, SIGKILL), and starts a contender that waits for the lock. The copies'
processes (`lock_helpers/batch.py`: children, grandchildren through `sh -c`, some ignoring SIGTERM) tick
into files until they die; the contender's command (`lock_helpers/second.py`) records when it started
and which of them still ran. Nothing asserts a duration: only the order of events.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from lock_helpers.harness import (
    HELPERS,
    TRAPPING,
    Background,
    TcpProxy,
    env,
    gone,
    item,
    lock_argv,
    ready,
    wait_for,
)

from ecsched.lock.watchdog import Watch

pytest_plugins = ["lock_helpers.fixtures"]

COPY = [sys.executable, "-I", "-S", str(HELPERS / "batch.py")]
SECOND = [sys.executable, "-I", "-S", str(HELPERS / "second.py")]


def first_copy(folder: Path, shape: str, *flags: str) -> list[str]:
    """The first copy's command: one process, or a shell with two grandchildren."""
    one = " ".join([*COPY, str(folder), *flags])
    if shape == "child":
        return [*COPY, str(folder), *flags]
    return ["sh", "-c", f"{one} & {one} & wait"]


def pids(folder: Path) -> list[int]:
    return [int(p.name.split(".")[1]) for p in folder.glob("pid.*")]


def last_tick(folder: Path) -> int:
    last = 0
    for f in folder.glob("ticks.*"):
        for line in f.read_text().splitlines():
            if line.strip().isdigit():
                last = max(last, int(line))
    return last


def check_no_overlap(folder: Path, contender: subprocess.Popen[bytes]) -> None:
    assert contender.wait(timeout=60) == 0
    start, *running = (folder / "second").read_text().split()
    assert running == [], f"the first copy still ran when the second started: {running}"
    assert last_tick(folder) < int(start), "the first copy ticked after the second started"
    for pid in pids(folder):
        assert gone(pid)


class First:
    """The first copy's `ecsched lock`, run as a job (see `lock_helpers/job.py`); stderr to a file."""

    def __init__(self, folder: Path, tmp_path: Path, command: list[str], processes: int,
                 stderr: int | None = None, **extra: str) -> None:
        folder.mkdir()
        self.err_path, pid_file = tmp_path / "first.err", tmp_path / "first.pid"
        with open(self.err_path, "wb") as err:
            self.job = subprocess.Popen([sys.executable, str(HELPERS / "job.py"), str(pid_file),
                                         *lock_argv("--key", "k", "--lease", "2s", "--", *command)],
                                        cwd=tmp_path, env=env(**extra), stdout=subprocess.DEVNULL,
                                        stderr=stderr if stderr is not None else err, start_new_session=True)
        wait_for("the first copy to run", lambda: len(pids(folder)) == processes)
        self.pid = int(pid_file.read_text())

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def wait(self) -> int:
        return self.job.wait(timeout=60)

    @property
    def err(self) -> str:
        return self.err_path.read_text()


def contend(folder: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(lock_argv("--key", "k", "--lease", "2s", "--on-locked", "wait", "--wait-timeout",
                                      "60s", "--", *SECOND, str(folder)),
                            cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


@pytest.mark.parametrize(("fault", "shape", "flags"), [
    ("sigstop", "shell", ()),
    ("ctrl-z", "child", ()),
    ("sigstop", "child", ("--ignore-term",)),
    ("sigkill", "shell", ()),
    ("sigkill", "shell", ("--ignore-term",)),
])
def test_a_broken_holder_never_lets_two_copies_run(
    table: str, tmp_path: Path, fault: str, shape: str, flags: tuple[str, ...]
) -> None:
    folder = tmp_path / "first"
    first = First(folder, tmp_path, first_copy(folder, shape, *flags), 1 if shape == "child" else 2)
    try:
        first.signal({"sigstop": signal.SIGSTOP, "ctrl-z": signal.SIGTSTP, "sigkill": signal.SIGKILL}[fault])
        check_no_overlap(folder, contend(folder, tmp_path))
    finally:
        first.signal(signal.SIGCONT)
        code = first.wait()
    if fault != "sigkill":
        # Continued, it finds its command stopped, and releases nothing of the contender's.
        assert code == 128 + (signal.SIGKILL if flags else signal.SIGTERM), first.err
    assert "watchdog:" in first.err and "sent SIGTERM to the command's process group" in first.err


def test_a_blocked_stderr_does_not_delay_the_stop(table: str, aws: str, tmp_path: Path) -> None:
    """Renewals fail (DynamoDB cut off) while the stderr pipe is full: the command is stopped in time
    anyway, and ecsched still exits with its code."""
    proxy = TcpProxy(aws)
    folder = tmp_path / "first"
    first = First(folder, tmp_path, first_copy(folder, "child", "--flood-stderr"), 1,
                  stderr=subprocess.PIPE, AWS_ENDPOINT_URL_DYNAMODB=proxy.url)
    try:
        proxy.cut()
        check_no_overlap(folder, contend(folder, tmp_path))
        # Nobody ever reads its stderr: it leaves without the last lines, with the command's exit code.
        assert first.wait() == 128 + signal.SIGTERM
    finally:
        first.job.kill()
        first.signal(signal.SIGKILL)
        first.job.wait()


def test_the_command_and_its_grandchildren_die_soon_after_a_sigkilled_holder(
    table: str, tmp_path: Path
) -> None:
    folder = tmp_path / "first"
    first = First(folder, tmp_path, first_copy(folder, "shell"), 2)
    first.signal(signal.SIGKILL)
    first.wait()
    # The watchdog heard the holder go: it does not wait for the lease to run out.
    wait_for("the grandchildren to die", lambda: all(gone(p) for p in pids(folder)))
    assert "ecsched lock (pid" in first.err and "is gone while its command still runs" in first.err


# --- the watchdog's decisions, on a fake clock -----------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def watch(margin: float = 1.0, expires_in: float = 8.0) -> tuple[Watch, Clock]:
    clock = Clock()
    return Watch(margin, clock.now + expires_in, clock=clock, wall=clock), clock


def run_until(w: Watch, clock: Clock, end: float, renew: Callable[[float], float | None] = lambda t: None
              ) -> list[tuple[str, float]]:
    """Step the clock by 50 ms until `end`; returns (action, time) for each signal."""
    actions = []
    while clock.now < end:
        clock.now = round(clock.now + 0.05, 2)
        if (expires := renew(clock.now)) is not None:
            w.renewed(expires)
        if (action := w.due()) is not None:
            actions.append((action, clock.now))
    return actions


def test_watch_stops_at_expiry_minus_margin_then_kills_half_a_margin_later() -> None:
    w, clock = watch()
    assert run_until(w, clock, 1010) == [("TERM", 1007.0), ("KILL", 1007.5)]


def test_watch_renewals_move_the_deadline_and_an_old_renewal_never_shortens_it() -> None:
    w, clock = watch()

    def renew(t: float) -> float | None:
        if t <= 1005:
            return t + 8  # renewed every step until 1005
        return 1001.0 if t == 1006 else None  # a stale note arrives late: ignored

    assert run_until(w, clock, 1020, renew) == [("TERM", 1012.0), ("KILL", 1012.5)]


def test_watch_a_lost_lease_or_a_gone_holder_stops_at_once() -> None:
    w, clock = watch()
    run_until(w, clock, 1002)
    w.stop("the lease was lost")
    assert run_until(w, clock, 1010) == [("TERM", 1002.05), ("KILL", 1002.55)]
    assert w.stop_requested == "the lease was lost"


def test_watch_kill_never_waits_past_expiry_minus_half_a_margin() -> None:
    w, clock = watch(margin=4.0, expires_in=3.0)
    w.stop("gone")
    assert run_until(w, clock, 1010) == [("TERM", 1000.05), ("KILL", 1001.0)]
    w2, clock2 = watch(margin=4.0, expires_in=5.0)
    assert run_until(w2, clock2, 1010) == [("TERM", 1001.0), ("KILL", 1003.0)]


def test_a_killed_watchdog_makes_the_holder_stop_the_command(
    table: str, tmp_path: Path, bg: Callable[..., Background]
) -> None:
    """Nothing would stop the command in time without its watchdog: the holder stops it at once."""
    pid_file = tmp_path / "pid"
    holder = bg(lock_argv("--key", "k", "--", "sh", "-c", TRAPPING, "sh", str(pid_file), str(tmp_path / "m")))
    wait_for("the command to start", ready(pid_file))
    command = int(pid_file.read_text())
    watchdog = os.getpgid(command)  # it leads the command's group
    assert watchdog not in (command, holder.proc.pid)
    os.kill(watchdog, signal.SIGKILL)
    assert holder.wait() == 128 + signal.SIGKILL, holder.err
    assert "the watchdog exited; stopped the command (SIGKILL)" in holder.err
    assert gone(command) and item("k") is None
