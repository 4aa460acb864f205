"""`ecsched lock` / `ecsched locks` against the moto server: real processes, real signals.

Processes are `python -m ecsched lock ...` with the environment the `aws` fixture set. Waits poll for an
event with a generous deadline; no test asserts how long anything took.
"""

from __future__ import annotations

import contextlib
import http.server
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from calendar import timegm
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ecsched.errors import EcschedError
from ecsched.lock import fmt_duration, parse_duration
from tests.conftest import client

TABLE = "ecsched-locks"
HELPERS = Path(__file__).parent / "lock_helpers"
TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/api/0123456789abcdef0123456789abcdef"

# A child that says it is ready, then loops until a signal; the trap records which one and exits 3.
TRAPPING = ('for s in TERM INT HUP; do trap "echo $s > \\"$2\\"; exit 3" $s; done; '
            'echo $$ > "$1"; while :; do sleep 0.05; done')


# --- helpers -------------------------------------------------------------------------------------------


def env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("ECSCHED_") and k != "ECS_CONTAINER_METADATA_URI_V4"}
    e["NO_COLOR"] = "1"
    e.update(extra)
    return e


def lock_argv(*args: str, table: str = TABLE) -> list[str]:
    return [sys.executable, "-m", "ecsched", "lock", "--table", table, *args]


# Every process gets its own session: no controlling terminal, whether or not pytest runs in one, so a
# signal sent by the test reaches ecsched alone (as ECS's does), never through a terminal.
def run(argv: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env(**extra), capture_output=True, text=True, timeout=120,
                          start_new_session=True)


class Background:
    """A process whose output goes to files, so that a full pipe never blocks it."""

    def __init__(self, argv: list[str], cwd: Path, **extra: str) -> None:
        self.out_path, self.err_path = cwd / f"bg{id(self)}.out", cwd / f"bg{id(self)}.err"
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(argv, cwd=cwd, env=env(**extra), stdout=out, stderr=err,
                                         start_new_session=True)

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout=timeout)

    @property
    def err(self) -> str:
        return self.err_path.read_text()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def bg(tmp_path: Path) -> Iterator[Callable[..., Background]]:
    started: list[Background] = []

    def start(argv: list[str], **extra: str) -> Background:
        b = Background(argv, tmp_path, **extra)
        started.append(b)
        return b

    yield start
    for b in started:
        b.kill()


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for: {what}")
        time.sleep(0.02)


def ready(path: Path) -> Callable[[], bool]:
    return lambda: path.exists() and path.read_text().strip() != ""


def item(key: str) -> dict[str, Any] | None:
    got: dict[str, Any] | None = client("dynamodb").get_item(
        TableName=TABLE, Key={"key": {"S": key}}, ConsistentRead=True).get("Item")
    return got


def gone(pid: int) -> bool:
    """Exited (reaped, or a zombie nobody reaps)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def epoch(iso: str) -> int:
    return timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


@contextlib.contextmanager
def http_server(respond: Callable[[http.server.BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]
                ) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, body = respond(self)
            self.send_response(status)
            for k, v in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class TcpProxy:
    """Forwards to the moto server until `cut()`: then DynamoDB is unreachable (connections refused)."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit("//", 1)[1].split(":")
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                a, _ = self.listener.accept()
            except OSError:
                return
            b = socket.create_connection(self.target)
            self.conns += [a, b]
            for src, dst in ((a, b), (b, a)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        self.listener.close()
        for c in self.conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()


class SerializingProxy:
    """HTTP proxy to moto that handles one request at a time.

    moto's DynamoDB checks a condition and writes without any lock, so two concurrent conditional puts
    can both succeed (seen: 2 overlaps in 300 rounds of the concurrency test). DynamoDB itself applies
    writes to one item one at a time; serializing the requests gives moto that property back.
    """

    def __init__(self, target: str,
                 hold: Callable[[http.server.BaseHTTPRequestHandler, bytes], None] | None = None) -> None:
        """`hold(handler, body)`, if given, runs before each request is forwarded: it may block it."""
        import http.client

        host, port = target.rsplit("//", 1)[1].split(":")
        one_at_a_time = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle holds the body ~40 ms.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if hold is not None:
                    hold(self, body)
                with one_at_a_time:
                    conn = http.client.HTTPConnection(host, int(port), timeout=30)
                    conn.request("POST", self.path, body, dict(self.headers.items()))
                    resp = conn.getresponse()
                    data, status, headers = resp.read(), resp.status, resp.getheaders()
                    conn.close()
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def table(aws: str, cli: Callable[..., Any]) -> str:
    res = cli("lock", "--create-table", "--table", TABLE)
    assert res.code == 0, res.err
    return TABLE


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


def test_fmt_duration() -> None:
    assert [fmt_duration(s) for s in (0.5, 59, 60, 5400, 3601)] == ["500ms", "59s", "1m", "1h30m", "1h1s"]


def test_create_table_is_idempotent(aws: str, cli: Callable[..., Any]) -> None:
    first = cli("lock", "--create-table", "--table", TABLE)
    second = cli("lock", "--create-table", "--table", TABLE)
    assert (first.code, second.code) == (0, 0), first.err + second.err
    assert "created" in first.err and "already exists" in second.err
    ddb = client("dynamodb")
    desc = ddb.describe_table(TableName=TABLE)["Table"]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert desc["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    ttl = ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


def test_missing_table_is_one_error_and_the_command_does_not_run(aws: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    res = run(lock_argv("--key", "k", "--", "touch", str(marker), table="no-such-table"), tmp_path)
    assert res.returncode == 125
    assert "no-such-table" in res.stderr and "ecsched lock --create-table --table no-such-table" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not marker.exists()


def test_missing_permission_is_one_error_and_the_command_does_not_run(aws: str, tmp_path: Path) -> None:
    body = json.dumps({"__type": "com.amazon.coral.service#AccessDeniedException",
                       "message": "User: arn:aws:sts::123456789012:assumed-role/app/x is not authorized to "
                                  "perform: dynamodb:PutItem"}).encode()
    marker = tmp_path / "ran"
    with http_server(lambda h: (400, {"Content-Type": "application/x-amz-json-1.0"}, body)) as url:
        res = run(lock_argv("--key", "k", "--", "touch", str(marker)), tmp_path, AWS_ENDPOINT_URL_DYNAMODB=url)
    assert res.returncode == 125
    assert TABLE in res.stderr and "task role" in res.stderr and "dynamodb:GetItem" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not marker.exists()


def test_table_from_env_then_config_and_none_is_an_error(
    table: str, cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ECSCHED_LOCK_TABLE", raising=False)
    res = cli("lock", "--key", "k", "--", "true")  # no flag, no variable, no config file
    assert res.code == 125 and "no lock table" in res.err
    (tmp_path / "ecsched.yaml").write_text(f"region: us-east-1\nlockTable: {TABLE}\nrules: []\n")
    res = cli("lock", "--key", "k", "--", "sh", "-c", "exit 4")
    assert res.code == 4, res.err
    monkeypatch.setenv("ECSCHED_LOCK_TABLE", "from-env")  # the variable wins over the config
    res = cli("lock", "--key", "k", "--", "true")
    assert res.code == 125 and "'from-env' does not exist" in res.err


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


def test_ten_contenders_thirty_rounds_never_two_holders(table: str, aws: str, tmp_path: Path) -> None:
    log = tmp_path / "intervals"
    log.touch()
    rounds, period = 30, 0.2
    start_at = time.time() + 3  # every contender has imported everything by then
    proxy = SerializingProxy(aws)
    try:
        procs = [subprocess.Popen([sys.executable, str(HELPERS / "contender.py"), TABLE, "batch", str(log),
                                   str(c), str(start_at), str(period), str(rounds)],
                                  cwd=tmp_path, env=env(AWS_ENDPOINT_URL_DYNAMODB=proxy.url),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  start_new_session=True)
                 for c in range(10)]
        results = [p.communicate(timeout=300) for p in procs]
    finally:
        proxy.close()
    codes = [c for out, _ in results for c in json.loads(out)]
    skips = sum(err.count("skipping") for _, err in results)
    assert codes == [0] * 300, [err for _, err in results if err]

    starts: dict[str, int] = {}
    ends: dict[str, int] = {}
    for line in log.read_text().splitlines():
        kind, ts, run_id = line.split()
        (starts if kind == "S" else ends)[run_id] = int(ts)
    assert starts.keys() == ends.keys()
    assert len(starts) + skips == 300
    intervals = sorted((starts[r], ends[r], r) for r in starts)
    for (_s1, e1, r1), (s2, _e2, r2) in itertools.pairwise(intervals):
        assert s2 > e1, f"{r1} and {r2} held the lock at the same time"
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


def test_locks_release_asks_on_a_tty_refuses_without_one_and_stops_the_holder(
    table: str, tmp_path: Path, bg: Callable[..., Background]
) -> None:
    pid_file, marker = tmp_path / "pid", tmp_path / "marker"
    holder = bg(lock_argv("--key", "k", "--lease", "3s", "--",
                          "sh", "-c", TRAPPING, "sh", str(pid_file), str(marker)))
    wait_for("the child to start", ready(pid_file))
    release = [sys.executable, "-m", "ecsched", "locks", "release", "k", "--table", TABLE]

    res = subprocess.run(release, cwd=tmp_path, env=env(), stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=60, start_new_session=True)
    assert res.returncode == 1 and "--yes" in res.stderr and "Traceback" not in res.stderr
    assert item("k") is not None

    def on_tty(answer: bytes) -> subprocess.CompletedProcess[str]:
        primary, secondary = os.openpty()
        try:
            os.write(primary, answer)  # typed ahead: the terminal keeps it until read
            return subprocess.run(release, cwd=tmp_path, env=env(), stdin=secondary, capture_output=True,
                                  text=True, timeout=60, start_new_session=True)
        finally:
            os.close(secondary)
            os.close(primary)

    res = on_tty(b"n\n")
    assert res.returncode == 1 and "release lock k (held by" in res.stderr
    assert item("k") is not None

    res = on_tty(b"y\n")
    assert res.returncode == 0, res.stderr
    assert item("k") is None
    assert holder.wait() == 3, holder.err  # force-released: the holder no longer owns it, so it stops
    assert marker.read_text().strip() == "TERM"
    assert "lease was lost" in holder.err


def test_locks_release_yes_and_missing_key(table: str, cli: Callable[..., Any]) -> None:
    ddb = client("dynamodb")
    ddb.put_item(TableName=TABLE, Item={"key": {"S": "old"}, "kind": {"S": "lease"}, "owner": {"S": "h:1"},
                                        "token": {"S": "t"}, "acquired_at": {"N": "1"},
                                        "expires_at": {"N": "2"}})
    res = cli("locks", "--table", TABLE, "--format", "json")
    assert json.loads(res.out) == []  # expired: not held
    res = cli("locks", "--table", TABLE, "--all", "--format", "json")
    assert [(r["key"], r["state"]) for r in json.loads(res.out)] == [("old", "expired")]
    res = cli("locks", "release", "old", "--table", TABLE, "--yes")
    assert res.code == 0 and item("old") is None
    res = cli("locks", "release", "old", "--table", TABLE, "--yes")
    assert res.code == 1 and "nothing to release" in res.err


# --- dedupe -----------------------------------------------------------------------------------------------


def delivery(time_: str = "2026-11-30T18:30:00Z") -> dict[str, str]:
    return {"ECSCHED_RULE": "nightly", "ECSCHED_SCHEDULED_TIME": time_}


def test_second_delivery_of_a_scheduled_time_is_skipped_even_after_the_first_finished(
    table: str, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    append = ["sh", "-c", 'echo "$ECSCHED_SCHEDULED_TIME" >> "$1"', "sh", str(runs)]
    first = run(lock_argv("--", *append), tmp_path, **delivery())
    assert first.returncode == 0, first.stderr
    assert item("nightly") is None  # the lease itself is released

    second = run(lock_argv("--on-locked", "fail", "--", *append), tmp_path, **delivery())
    assert second.returncode == 0  # a duplicate is no alarm, whatever --on-locked says
    assert "already ran for scheduled time 2026-11-30T18:30:00Z" in second.stderr
    assert runs.read_text().splitlines() == ["2026-11-30T18:30:00Z"]

    nxt = run(lock_argv("--", *append), tmp_path, **delivery("2026-11-30T18:31:00Z"))
    assert nxt.returncode == 0
    assert runs.read_text().splitlines() == ["2026-11-30T18:30:00Z", "2026-11-30T18:31:00Z"]

    # Expiry is in the condition: an expired record (never swept by moto) no longer blocks.
    client("dynamodb").update_item(TableName=TABLE, Key={"key": {"S": "nightly@2026-11-30T18:30:00Z"}},
                                   UpdateExpression="SET expires_at = :p", ExpressionAttributeValues={
                                       ":p": {"N": str(int(time.time()) - 5)}})
    again = run(lock_argv("--", *append), tmp_path, **delivery())
    assert again.returncode == 0
    assert runs.read_text().splitlines()[-1] == "2026-11-30T18:30:00Z"
    assert len(runs.read_text().splitlines()) == 3


def test_duplicate_delivery_while_the_first_runs_is_skipped(
    table: str, tmp_path: Path, bg: Callable[..., Background]
) -> None:
    pid_file, marker = tmp_path / "pid", tmp_path / "ran"
    first = bg(lock_argv("--", "sh", "-c", TRAPPING, "sh", str(pid_file), str(tmp_path / "m")), **delivery())
    wait_for("the first copy to start", ready(pid_file))
    dup = run(lock_argv("--on-locked", "fail", "--", "touch", str(marker)), tmp_path, **delivery())
    assert dup.returncode == 0 and "already running" in dup.stderr
    other = run(lock_argv("--on-locked", "fail", "--", "touch", str(marker)), tmp_path,
                **delivery("2026-11-30T18:31:00Z"))
    assert other.returncode == 75  # a different scheduled time is a real conflict
    assert not marker.exists()
    first.proc.send_signal(signal.SIGTERM)
    assert first.wait() == 3


def test_a_scheduled_time_killed_midway_is_not_run_again(
    table: str, tmp_path: Path, bg: Callable[..., Background]
) -> None:
    pid_file, marker = tmp_path / "pid", tmp_path / "ran"
    first = bg(lock_argv("--lease", "2s", "--", "sh", "-c", 'echo $$ > "$1"; exec sleep 60', "sh",
                         str(pid_file)), **delivery())
    wait_for("the first copy to start", ready(pid_file))
    first.proc.kill()
    first.wait()
    stale = item("nightly")
    assert stale is not None
    # Until then the duplicate would see a lease for its own scheduled time and skip on that alone.
    wait_for("the stale lease to expire", lambda: int(stale["expires_at"]["N"]) < int(time.time()))
    dup = run(lock_argv("--lease", "2s", "--on-locked", "wait", "--wait-timeout", "30s", "--",
                        "touch", str(marker)), tmp_path, **delivery())
    assert dup.returncode == 0, dup.stderr
    assert "took over the expired lease" in dup.stderr and "already ran" in dup.stderr
    assert not marker.exists()
