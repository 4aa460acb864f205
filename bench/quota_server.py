"""A moto server on loopback behind a WSGI layer that behaves like AWS under load.

Per request, the layer adds a round-trip latency and a per-API-action token-bucket quota (EventBridge's
documented default: 50 requests/s), answering a real `ThrottlingException` above it. It records every
call per action, so the benchmark and the tests can count them.

    with QuotaServer(latency=0.025, rate=50, burst=50) as srv:
        os.environ["AWS_ENDPOINT_URL"] = srv.url
        ...
        srv.layer.calls["events:ListRules"]

Used by bench/bench_scale.py and by tests/test_throttling.py and tests/test_aws_pacing.py.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

WRITE_ACTIONS = frozenset({"PutRule", "PutTargets", "RemoveTargets", "DeleteRule", "EnableRule", "DisableRule",
                           "TagResource", "UntagResource", "CreateSchedule", "UpdateSchedule", "DeleteSchedule"})

StartResponse = Callable[..., Any]


class Bucket:
    """The server's token bucket for one action: `rate` tokens/s, at most `burst`, starting full.
    Burst 0 is a bucket of one that starts empty (the first request is throttled)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class Limits:
    latency: float = 0.025  # seconds per round trip, split before and after the server's work
    rate: float | None = 50.0  # requests/s per action; None: no quota (rate 0, burst 0: throttle everything)
    burst: float = 50.0


class QuotaLayer:
    """WSGI middleware: latency, per-action quota, call counts."""

    def __init__(self, app: Callable[..., Iterable[bytes]], limits: Limits | None = None) -> None:
        self.app = app
        self.limits = limits or Limits()
        self.per_action: dict[str, Limits] = {}  # overrides, e.g. {"events:ListTargetsByRule": Limits(rate=0)}
        self.calls: Counter[str] = Counter()  # every request that reached us, throttled or not
        self.throttled: Counter[str] = Counter()
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    # --- control, from the harness or a test ---------------------------------------------------
    def reset(self) -> None:
        """Zero the counts and refill every bucket: as if the previous run were long ago."""
        with self._lock:
            self.calls.clear()
            self.throttled.clear()
            self._buckets.clear()

    def writes(self) -> int:
        return sum(n for k, n in self.calls.items() if k.split(":", 1)[-1] in WRITE_ACTIONS)

    # --- WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            return self.app(environ, start_response)
        key, protocol = self._action(environ)
        limits = self.per_action.get(key, self.limits)
        half = limits.latency / 2
        if half:
            time.sleep(half)
        with self._lock:
            self.calls[key] += 1
            ok = True
            if limits.rate is not None:
                bucket = self._buckets.get(key)
                if bucket is None or bucket.rate != limits.rate:
                    bucket = self._buckets[key] = Bucket(limits.rate, limits.burst)
                ok = bucket.take()
            if not ok:
                self.throttled[key] += 1
        if not ok:
            status, headers, body = self._throttle(protocol)
        else:
            captured: dict[str, Any] = {}

            def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
                captured["status"], captured["headers"] = status, headers
                return lambda _data: None

            result = self.app(environ, capture)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
            status, headers = captured["status"], captured["headers"]
        if half:
            time.sleep(half)
        start_response(status, headers)
        return [body]

    @staticmethod
    def _action(environ: dict[str, Any]) -> tuple[str, str]:
        """('service:Action', protocol) from X-Amz-Target (JSON protocols) or Action= (query protocols)."""
        auth = environ.get("HTTP_AUTHORIZATION", "")
        service = "?"
        if "Credential=" in auth:
            scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
            if len(scope) >= 4:
                service = scope[3]
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return f"{service}:{target.rsplit('.', 1)[-1]}", "json"
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "Action" in query:
            return f"{service}:{query['Action'][0]}", "query"
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
            form = parse_qs(body.decode("utf-8", "replace"))
            if "Action" in form:
                return f"{service}:{form['Action'][0]}", "query"
        # REST protocols (Scheduler, S3): the method and the first path segment stand for the action.
        first = environ.get("PATH_INFO", "/").strip("/").split("/", 1)[0]
        return f"{service}:{environ.get('REQUEST_METHOD', 'GET')} /{first}", "rest"

    @staticmethod
    def _throttle(protocol: str) -> tuple[str, list[tuple[str, str]], bytes]:
        rid = str(uuid.uuid4())
        if protocol == "query":
            body = ("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                    f"<Message>Rate exceeded</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>").encode()
            return "400 Bad Request", [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", rid),
                   ("x-amzn-ErrorType", "ThrottlingException")]
        if protocol == "rest":
            return "429 Too Many Requests", headers, body
        return "400 Bad Request", headers, body


class QuotaServer:
    """moto's own WSGI app (as ThreadedMotoServer builds it) behind QuotaLayer, served on 127.0.0.1."""

    def __init__(self, latency: float = 0.025, rate: float | None = 50.0, burst: float = 50.0, port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        self.layer = QuotaLayer(DomainDispatcherApplication(create_backend_app), Limits(latency, rate, burst))
        self._server = make_server("127.0.0.1", port, self.layer, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="quota-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> QuotaServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()

    def reset_moto(self) -> None:
        """Empty moto's state (POST /moto-api/reset), and the layer's counts."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"),
                               timeout=30).read()
        self.layer.reset()

    def __enter__(self) -> QuotaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
