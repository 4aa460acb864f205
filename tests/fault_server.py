"""A moto server behind a WSGI layer that fails chosen API actions, for reliability tests.

    with FaultServer(moto_url) as fs:            # moto_url: the `aws` fixture's server
        monkeypatch.setenv("AWS_ENDPOINT_URL", fs.url)
        fs.add("ListTargetsByRule", "500", rate=0.35)
        fs.add("PutTargets", "500-after-commit", times=1)
        ...
        fs.calls["PutTargets"], fs.faults["PutTargets"]

Modes, per request of a matching action:
- "500": answer HTTP 500 InternalFailure; moto never sees the request (nothing committed);
- "500-after-commit": forward to moto (the write commits), then answer 500 (the answer is lost);
- "reset": close the connection with a TCP reset, the request unanswered (and not forwarded);
- "slow": wait `delay` seconds, then forward;
- "throttle": answer a real ThrottlingException (400, or 429 for REST protocols).

`times=N` faults the first N matching requests; `rate=p` faults each with probability p (seeded, so a
test is reproducible); neither: every matching request. `action` is the API action name (the last part
of X-Amz-Target, or Action=, or "METHOD /first-path-segment" for REST services), or "*" for all.
The layer forwards to the upstream moto server over HTTP, so state lives in the one moto of the test.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bench.quota_server import QuotaLayer

MODES = ("500", "500-after-commit", "reset", "slow", "throttle")
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}


@dataclass
class Rule:
    action: str
    mode: str
    times: int | None = None
    rate: float | None = None
    delay: float = 0.0
    hits: int = 0


class FaultServer:
    def __init__(self, upstream: str, seed: int = 0) -> None:
        from werkzeug.serving import make_server

        if not upstream.startswith("http"):
            raise ValueError(f"upstream must be an http URL, not {upstream!r}")
        self.upstream = upstream.rstrip("/")
        self.rules: list[Rule] = []
        self.calls: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-server", daemon=True)

    # --- control ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, action: str, mode: str, *, times: int | None = None, rate: float | None = None,
            delay: float = 0.0) -> Rule:
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {MODES}")
        rule = Rule(action, mode, times, rate, delay)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()

    # --- WSGI ------------------------------------------------------------------------------------
    def _pick(self, action: str) -> Rule | None:
        with self._lock:
            self.calls[action] += 1
            for rule in self.rules:
                if rule.action not in ("*", action):
                    continue
                if rule.times is not None and rule.hits >= rule.times:
                    continue
                if rule.rate is not None and self._random.random() >= rule.rate:
                    continue
                rule.hits += 1
                self.faults[action] += 1
                return rule
        return None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        import io

        environ["wsgi.input"] = io.BytesIO(body)  # the action parser may read a form body
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            rule = None
            action, protocol = "moto-api", "rest"
        else:
            key, protocol = QuotaLayer._action(environ)
            action = key.split(":", 1)[-1]
            rule = self._pick(action)
        if rule is not None and rule.mode == "reset":
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)  # the client reads EOF with no answer
            start_response("500 Internal Server Error", [])
            return []
        if rule is not None and rule.mode == "throttle":
            status, headers, out = QuotaLayer._throttle(protocol)
            start_response(status, headers)
            return [out]
        if rule is not None and rule.mode == "500":
            return self._error(protocol, start_response)
        if rule is not None and rule.mode == "slow":
            time.sleep(rule.delay)
        status, headers, out = self._forward(environ, body)
        if rule is not None and rule.mode == "500-after-commit":
            return self._error(protocol, start_response)
        start_response(status, headers)
        return [out]

    def _forward(self, environ: dict[str, Any], body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        path = environ.get("PATH_INFO", "/")
        query = environ.get("QUERY_STRING", "")
        url = self.upstream + urllib.request.quote(path, safe="/%:@!$&'()*+,;=-._~") + (f"?{query}" if query else "")
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        headers.pop("Host", None)
        headers.pop("Accept-Encoding", None)
        req = urllib.request.Request(url, data=body if body or environ["REQUEST_METHOD"] in ("POST", "PUT") else None,
                                     headers=headers, method=environ["REQUEST_METHOD"])
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                code, reason, raw_headers, out = resp.status, resp.reason, resp.getheaders(), resp.read()
        except urllib.error.HTTPError as e:
            code, reason, raw_headers, out = e.code, e.reason, list(e.headers.items()), e.read()
        kept = [(k, v) for k, v in raw_headers if k.lower() not in _HOP]
        kept.append(("Content-Length", str(len(out))))
        return f"{code} {reason}", kept, out

    @staticmethod
    def _error(protocol: str, start_response: Callable[..., Any]) -> list[bytes]:
        rid = str(uuid.uuid4())
        if protocol == "query":
            out = ("<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>"
                   f"<Message>injected fault</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>").encode()
            headers = [("Content-Type", "text/xml")]
        else:
            out = json.dumps({"__type": "InternalFailure", "message": "injected fault"}).encode()
            headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", "InternalFailure")]
        headers += [("x-amzn-RequestId", rid), ("Content-Length", str(len(out)))]
        start_response("500 Internal Server Error", headers)
        return [out]
