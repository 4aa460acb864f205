"""What the lock tests share: processes with output in files, waits, and proxies in front of moto.

Every process gets its own session: no controlling terminal, whether or not pytest runs in one, so a
signal sent by a test reaches ecsched alone (as ECS's does), never through a terminal.
"""

from __future__ import annotations

import contextlib
import http.server
import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from calendar import timegm
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.conftest import client

TABLE = "ecsched-locks"
HELPERS = Path(__file__).parent
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


def delivery(time_: str = "2026-11-30T18:30:00Z") -> dict[str, str]:
    return {"ECSCHED_RULE": "nightly", "ECSCHED_SCHEDULED_TIME": time_}


def race(argvs: list[list[str]], aws: str, cwd: Path, timeout: float = 300) -> list[tuple[str, str, int]]:
    """Runs the processes together against moto through a SerializingProxy; (stdout, stderr, exit code)
    of each."""
    proxy = SerializingProxy(aws)
    try:
        procs = [subprocess.Popen(argv, cwd=cwd, env=env(AWS_ENDPOINT_URL_DYNAMODB=proxy.url),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
                 for argv in argvs]
        results = [p.communicate(timeout=timeout) for p in procs]
    finally:
        proxy.close()
    return [(out, err, p.returncode) for (out, err), p in zip(results, procs, strict=True)]


def assert_one_at_a_time(log: Path) -> int:
    """`log` has lines `S <ns> <run>` and `E <ns> <run>`: no run starts before the one before it ended.
    Returns the number of runs."""
    spans: dict[str, dict[str, int]] = {}
    for line in log.read_text().splitlines():
        kind, ns, run_id = line.split()
        spans.setdefault(run_id, {})[kind] = int(ns)
    assert all(span.keys() == {"S", "E"} for span in spans.values()), spans
    intervals = sorted((span["S"], span["E"], run_id) for run_id, span in spans.items())
    for (_, end, first), (start, _, second) in itertools.pairwise(intervals):
        assert start > end, f"{first} and {second} held the lock at the same time"
    return len(spans)
