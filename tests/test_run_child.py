"""`ecsched run` as a real child process, where what is tested needs one: signals, a terminal, output
that arrives while the task runs."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from run_helpers import describe, ecsched_argv, hold, put_logs, release, run_env, subprocess_env, wait_for_task

STARTED_BY = "ecsched/nightly-report"


@pytest.fixture
def env(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    yield from run_env(aws, tmp_path, monkeypatch)


def test_logs_arrive_while_the_task_runs(env):
    """A real child: the first lines show up on its stdout while the task is still RUNNING."""
    hold(env["url"])
    proc = subprocess.Popen(ecsched_argv("-c", env["config"], "run", "--rule", "nightly-report"),
                            env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        arn = wait_for_task("api", STARTED_BY)
        tid = arn.rsplit("/", 1)[1]
        put_logs("/ecs/task1", f"ecs/app/{tid}", ["first line"])
        assert proc.stdout is not None
        assert proc.stdout.readline() == "first line\n"
        assert describe("api", arn)["lastStatus"] == "RUNNING"
        put_logs("/ecs/task1", f"ecs/app/{tid}", ["second line"])
        assert proc.stdout.readline() == "second line\n"
        release(env["url"])
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out == ""


def test_live_status_line_on_a_terminal(env):
    """rich's live line, redrawn in place and cut to the terminal's 36 columns (a wrapped status line
    leaves a stale row on every refresh)."""
    hold(env["url"])
    master, slave = pty.openpty()
    proc = subprocess.Popen(ecsched_argv("-c", env["config"], "run", "--rule", "nightly-report", "--no-logs"),
                            env=subprocess_env({"COLUMNS": "36"}), stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    seen = b""
    try:
        tid = wait_for_task("api", STARTED_BY).rsplit("/", 1)[1]
        want = f"nightly-report: {tid[:12]} RUNN".encode()
        while want not in seen:
            ready, _, _ = select.select([master], [], [], 30)
            assert ready, seen
            seen += os.read(master, 4096)
        release(env["url"])
        proc.wait(timeout=60)
        while True:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert b"\r\x1b[2K" + want in seen  # redrawn in place
    rows = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", r) for r in re.split(r"[\r\n]", seen.decode())]
    status_rows = [r for r in rows if r.startswith("nightly-report: ")]
    assert status_rows and all(len(r) <= 36 and r.endswith("…") for r in status_rows), status_rows
    assert b"STOPPED" in seen


# --- signals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_stops_the_task_and_exits_128_plus_n(env, sig, code):
    import getpass

    hold(env["url"])  # the task would otherwise end on its own after four describes
    proc = subprocess.Popen(ecsched_argv("-c", env["config"], "run", "--rule", "nightly-report"),
                            env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # "ecsched: started ARN ...": the handlers are installed by now
        assert "started" in line, line + proc.stderr.read()
        arn = wait_for_task("api", STARTED_BY)
        assert describe("api", arn)["lastStatus"] == "RUNNING"
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    task = describe("api", arn)
    assert task["lastStatus"] == "STOPPED"
    assert "ecsched" in task["stoppedReason"]
    assert getpass.getuser() in task["stoppedReason"]
    assert signal.Signals(sig).name in task["stoppedReason"]
