"""`ecsched lock` / `ecsched locks` against the moto server: real processes, real signals.

Processes are `python -m ecsched lock ...` with the environment the `aws` fixture set. Waits poll for an
event with a generous deadline; no test asserts how long anything took.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lock_helpers.harness import (
    HELPERS,
    TABLE,
    TASK_ARN,
    TRAPPING,
    Background,
    SerializingProxy,
    TcpProxy,
    assert_one_at_a_time,
    delivery,
    env,
    epoch,
    gone,
    http_server,
    item,
    lock_argv,
    race,
    ready,
    run,
    wait_for,
)

from ecsched.durations import parse_duration
from ecsched.errors import EcschedError
from tests.conftest import client

pytest_plugins = ["lock_helpers.fixtures"]  # the `bg` and `table` fixtures


# --- durations, setup, errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [
    ("60s", 60), ("5m", 300), ("1h", 3600), ("90", 90), ("1.5", 1.5), ("1h30m", 5400), ("2d", 172800),
    ("250ms", 0.25), (" 10S ", 10),
])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5x", "m5", "-3s", "5m junk", "1e999"])
def test_bad_durations_are_one_clear_error(text: str) -> None:
    with pytest.raises(EcschedError, match="duration"):
        parse_duration(text, "--lease")


@pytest.mark.parametrize(("args", "message"), [
    (["--key", "k", "--lease", "soon", "--", "true"], "--lease: 'soon' is not a duration"),
    (["--key", "k", "--lease", "0.5s", "--", "true"], "at least 1s"),
    (["--key", "k"], "nothing to run"),
    (["--", "true"], "no lock key"),
])
def test_bad_input_is_one_clear_error(table: str, cli: Callable[..., Any], args: list[str], message: str) -> None:
    res = cli("lock", "--table", TABLE, *args)
    assert res.code == 125 and message in res.err and "Traceback" not in res.err


# --- running the command ------------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "code"), [
    (["true"], 0),
    (["sh", "-c", "exit 7"], 7),
    (["sh", "-c", "exit 255"], 255),
    (["sh", "-c", "kill -TERM $$"], 128 + signal.SIGTERM),
    (["sh", "-c", "kill -KILL $$"], 128 + signal.SIGKILL),
    (["no-such-command-xyz"], 127),
])
def test_exit_code_passes_through_and_the_lock_is_released(
    table: str, tmp_path: Path, command: list[str], code: int
) -> None:
    res = run(lock_argv("--key", "k", "--", *command), tmp_path)
    assert res.returncode == code, res.stderr
    assert item("k") is None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signals_are_forwarded_and_the_child_waited_for(
    table: str, tmp_path: Path, bg: Callable[..., Background], sig: signal.Signals
) -> None:
    pid_file, marker = tmp_path / "pid", tmp_path / "marker"
    holder = bg(lock_argv("--key", "k", "--", "sh", "-c", TRAPPING, "sh", str(pid_file), str(marker)))
    wait_for("the child to start", ready(pid_file))
    holder.proc.send_signal(sig)
    assert holder.wait() == 3, holder.err  # the child's own exit code, after its trap ran
    assert marker.read_text().strip() == sig.name.removeprefix("SIG")
    assert item("k") is None


def test_ctrl_c_in_a_terminal_reaches_the_command_once(table: str, tmp_path: Path) -> None:
    import fcntl
    import termios

    primary, secondary = os.openpty()
    ready_file = tmp_path / "ready"
    try:
        proc = subprocess.Popen(
            lock_argv("--key", "k", "--", sys.executable, str(HELPERS / "count_signals.py"), str(ready_file)),
            cwd=tmp_path, env=env(), stdin=secondary, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # the pty becomes its terminal
        )
        wait_for("the command to start", ready(ready_file))
        os.write(primary, b"\x03")  # Ctrl-C: the terminal signals ecsched; the command has its own group
        # The command exits with the number of SIGINTs it got: exactly one, forwarded by ecsched.
        assert proc.wait(timeout=60) == 1
    finally:
        os.close(secondary)
        os.close(primary)
    assert item("k") is None


def test_signal_while_waiting_for_the_lock_runs_nothing(
    table: str, tmp_path: Path, bg: Callable[..., Background]
) -> None:
    pid_file, marker = tmp_path / "pid", tmp_path / "ran"
    holder = bg(lock_argv("--key", "k", "--", "sh", "-c", TRAPPING, "sh", str(pid_file), str(tmp_path / "m")))
    wait_for("the holder's child to start", ready(pid_file))
    waiter = bg(lock_argv("--key", "k", "--on-locked", "wait", "--wait-timeout", "5m", "--",
                          "touch", str(marker)))
    wait_for("the waiter to wait", lambda: "waiting up to 5m" in waiter.err)
    waiter.proc.send_signal(signal.SIGTERM)
    assert waiter.wait() == 128 + signal.SIGTERM
    assert not marker.exists()
    holder.proc.send_signal(signal.SIGTERM)
    assert holder.wait() == 3


def test_sigterm_while_the_run_is_being_recorded_runs_nothing(
    table: str, aws: str, tmp_path: Path, bg: Callable[..., Background]
) -> None:
    """The signal arrives after the last check of the wait loop, while the dedupe record is written."""
    arrived, go_on = threading.Event(), threading.Event()

    def hold(h: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        if h.headers.get("X-Amz-Target", "").endswith(".PutItem") and b"nightly@" in body:
            arrived.set()
            go_on.wait(timeout=60)

    proxy = SerializingProxy(aws, hold)
    marker = tmp_path / "ran"
    try:
        holder = bg(lock_argv("--", "touch", str(marker)), AWS_ENDPOINT_URL_DYNAMODB=proxy.url, **delivery())
        assert arrived.wait(timeout=60), holder.err
        holder.proc.send_signal(signal.SIGTERM)
        go_on.set()
        assert holder.wait() == 128 + signal.SIGTERM, holder.err
    finally:
        go_on.set()
        proxy.close()
    assert not marker.exists()
    assert item("nightly") is None  # the lease is released
    assert item("nightly@2026-11-30T18:30:00Z") is None  # and the run not recorded: a redelivery runs it
    again = run(lock_argv("--", "touch", str(marker)), tmp_path, **delivery())
    assert again.returncode == 0, again.stderr
    assert marker.exists()


@pytest.mark.parametrize("how", ["sigterm", "lease-lost", "exit"])
def test_the_commands_children_do_not_outlive_it(
    table: str, tmp_path: Path, bg: Callable[..., Background], how: str
) -> None:
    pid_file = tmp_path / "pid"
    script = 'sleep 60 & echo $! > "$1"' + ("" if how == "exit" else "; wait")
    holder = bg(lock_argv("--key", "k", "--lease", "3s", "--", "sh", "-c", script, "sh", str(pid_file)))
    wait_for("the grandchild to start", ready(pid_file))
    grandchild = int(pid_file.read_text())
    try:
        if how == "sigterm":
            holder.proc.send_signal(signal.SIGTERM)
        elif how == "lease-lost":
            client("dynamodb").put_item(TableName=TABLE, Item={
                "key": {"S": "k"}, "kind": {"S": "lease"}, "owner": {"S": "intruder"},
                "token": {"S": "intruder-token"}, "acquired_at": {"N": str(time.time())},
                "expires_at": {"N": str(int(time.time()) + 600)}})
        assert holder.wait() == (0 if how == "exit" else 128 + signal.SIGTERM), holder.err
        wait_for("the grandchild to be stopped", lambda: gone(grandchild))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(grandchild, signal.SIGKILL)
    if how == "lease-lost":
        assert "lease was lost" in holder.err


def test_ten_contenders_fifteen_rounds_never_two_holders(table: str, aws: str, tmp_path: Path) -> None:
    log = tmp_path / "intervals"
    log.touch()
    rounds, period = 15, 0.2
    start_at = time.time() + 3  # every contender has imported everything by then
    results = race([[sys.executable, str(HELPERS / "contender.py"), TABLE, "batch", str(log), str(c),
                     str(start_at), str(period), str(rounds)] for c in range(10)], aws, tmp_path)
    codes = [c for out, _, _ in results for c in json.loads(out)]
    skips = sum(err.count("skipping") for _, err, _ in results)
    assert codes == [0] * 10 * rounds, [err for _, err, _ in results if err]
    assert assert_one_at_a_time(log) + skips == 10 * rounds
    assert skips > 0, "no contention at all: this run proved nothing"


def test_a_sigkilled_holder_is_taken_over_after_its_lease(
    table: str, tmp_path: Path, bg: Callable[..., Background]
) -> None:
    pid_file, started = tmp_path / "pid", tmp_path / "started"
    holder = bg(lock_argv("--key", "k", "--lease", "2s", "--", "sh", "-c", 'echo $$ > "$1"; exec sleep 60',
                          "sh", str(pid_file)))
    wait_for("the holder's child to start", ready(pid_file))
    child_pid = int(pid_file.read_text())
    stale = item("k")
    assert stale is not None
    stale_owner = stale["owner"]["S"]
    assert stale_owner.endswith(f":{holder.proc.pid}")  # host:pid outside ECS

    holder.proc.kill()
    holder.wait()
    # Without ecsched the child must not carry on unlocked.
    wait_for("the orphaned child to die with its parent", lambda: gone(child_pid))

    res = run(lock_argv("--key", "k", "--lease", "2s", "--on-locked", "wait", "--wait-timeout", "30s", "--",
                        "sh", "-c", 'date +%s > "$1"', "sh", str(started)), tmp_path)
    assert res.returncode == 0, res.stderr
    m = re.search(r"took over the expired lease of (\S+) \(held since \S+, expired (\S+)\)", res.stderr)
    assert m, res.stderr
    assert m.group(1) == stale_owner
    # The takeover happened only once the stale lease had expired.
    assert int(started.read_text()) > epoch(m.group(2))
    assert item("k") is None


def test_a_lost_lease_stops_the_child(table: str, tmp_path: Path, bg: Callable[..., Background]) -> None:
    pid_file, marker = tmp_path / "pid", tmp_path / "marker"
    holder = bg(lock_argv("--key", "k", "--lease", "3s", "--",
                          "sh", "-c", TRAPPING, "sh", str(pid_file), str(marker)))
    wait_for("the child to start", ready(pid_file))
    intruder = {"key": {"S": "k"}, "kind": {"S": "lease"}, "owner": {"S": "intruder"},
                "token": {"S": "intruder-token"}, "acquired_at": {"N": str(time.time())},
                "expires_at": {"N": str(int(time.time()) + 600)}}
    client("dynamodb").put_item(TableName=TABLE, Item=intruder)  # as if it had been taken over
    assert holder.wait() == 3, holder.err
    assert marker.read_text().strip() == "TERM"
    assert "lease was lost: taken over by intruder" in holder.err
    assert item("k") == intruder  # released only what was ours: nothing


def test_unreachable_dynamodb_stops_the_child_before_the_lease_expires(
    table: str, aws: str, tmp_path: Path, bg: Callable[..., Background]
) -> None:
    proxy = TcpProxy(aws)
    pid_file, marker = tmp_path / "pid", tmp_path / "marker"
    holder = bg(lock_argv("--key", "k", "--lease", "2s", "--", "sh", "-c", TRAPPING, "sh", str(pid_file),
                          str(marker)), AWS_ENDPOINT_URL_DYNAMODB=proxy.url)
    wait_for("the child to start", ready(pid_file))
    proxy.cut()
    assert holder.wait() == 3, holder.err
    assert marker.read_text().strip() == "TERM"
    assert "lease could not be renewed" in holder.err


# --- skip / fail / wait, owner identity, listing, release -----------------------------------------------------


def test_held_lock_skip_fail_wait_and_owner_from_ecs_metadata(
    table: str, tmp_path: Path, bg: Callable[..., Background], cli: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    def metadata(h: http.server.BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        if h.path == "/v4/abc/task":
            return 200, {"Content-Type": "application/json"}, json.dumps({"TaskARN": TASK_ARN}).encode()
        return 404, {}, b""

    pid_file = tmp_path / "pid"
    with http_server(metadata) as url:
        # No --key: the rule name is the key.
        holder = bg([sys.executable, "-m", "ecsched", "lock", "--table", TABLE, "--", "sh", "-c", TRAPPING,
                     "sh", str(pid_file), str(tmp_path / "m")],
                    ECSCHED_RULE="nightly", ECS_CONTAINER_METADATA_URI_V4=f"{url}/v4/abc")
        wait_for("the holder's child to start", ready(pid_file))
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "ran"

    res = cli("lock", "--table", TABLE, "--key", "nightly", "--", "touch", str(marker))
    assert res.code == 0
    lines = res.err.strip().splitlines()
    assert len(lines) == 1 and re.search(rf"held by {re.escape(TASK_ARN)} since \d{{4}}-\d\d-\d\dT", lines[0])

    res = cli("lock", "--table", TABLE, "--key", "nightly", "--on-locked", "fail", "--", "touch", str(marker))
    assert res.code == 75 and TASK_ARN in res.err

    res = cli("lock", "--table", TABLE, "--key", "nightly", "--on-locked", "wait", "--wait-timeout", "1s",
              "--", "touch", str(marker))
    assert res.code == 75 and "gave up" in res.err
    assert not marker.exists()

    res = cli("locks", "--table", TABLE, "--format", "json")
    assert res.code == 0
    [held] = json.loads(res.out)
    assert (held["key"], held["owner"], held["state"]) == ("nightly", TASK_ARN, "held")
    assert epoch(held["since"]) <= epoch(held["expires"])
    res = cli("locks", "--table", TABLE)
    assert res.out.splitlines()[0].split() == ["KEY", "OWNER", "SINCE", "EXPIRES"]
    assert res.out.splitlines()[1].split()[:2] == ["nightly", TASK_ARN]

    holder.proc.send_signal(signal.SIGTERM)
    assert holder.wait() == 3
    res = cli("locks", "--table", TABLE, "--format", "json")
    assert json.loads(res.out) == []


def test_wait_gets_the_lock_once_released(table: str, tmp_path: Path, bg: Callable[..., Background]) -> None:
    pid_file, marker = tmp_path / "pid", tmp_path / "ran"
    holder = bg(lock_argv("--key", "k", "--", "sh", "-c", TRAPPING, "sh", str(pid_file), str(tmp_path / "m")))
    wait_for("the holder's child to start", ready(pid_file))
    waiter = bg(lock_argv("--key", "k", "--on-locked", "wait", "--wait-timeout", "30s", "--",
                          "sh", "-c", 'test -e "$1" || echo alone > "$2"', "sh", str(pid_file), str(marker)))
    wait_for("the waiter to wait", lambda: "waiting up to 30s" in waiter.err)
    assert not marker.exists()
    holder.proc.send_signal(signal.SIGTERM)
    assert holder.wait() == 3
    pid_file.unlink()
    assert waiter.wait() == 0, waiter.err
    assert marker.read_text().strip() == "alone"
