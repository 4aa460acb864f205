"""boto3 sessions and clients. boto3 is imported here, lazily, so `--help` and `validate` never pay for it.

Endpoints come from boto3 itself: it honours AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>), which is
how tests and `ecsched sandbox` point every command at a local emulator.

Retries: botocore's standard rules (transient errors, throttling; AWS_MAX_ATTEMPTS attempts), decided here
rather than by botocore's own handler, for one reason: botocore's retry quota is shared by every call of a
client, so under sustained errors (35% 5xx) reads use it up and later calls fail with no retry left.
Reads (List*, Describe*, Get*) are idempotent and paced by the buckets below, so they retry without a
quota; writes keep one of their own.

Pacing: AWS gives each API action a request quota (EventBridge: 50/s per action and region). Every HTTP
attempt, retries included, first takes a token from a client-side bucket for its action, so that
concurrent readers pace themselves under the quota instead of running into it. Throttling that still
happens (another process shares the quota) slows that action down and is retried by botocore.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from ecsched.arns import Account
from ecsched.errors import EcschedError

DEFAULT_QUOTA = 50.0  # requests per second per API action: EventBridge's documented default
# The client's bucket holds a little less than AWS's (burst = quota): two tokens of 50 absorb the jitter
# between when a call leaves and when it arrives.
BURST_FRACTION = 0.96
DEFAULT_MAX_ATTEMPTS = 10  # with backoff, rides out throttling from others sharing the quota
DEFAULT_PARALLEL = 16  # concurrent AWS calls of one run (--parallel)


def retries() -> dict[str, Any]:
    """botocore's standard mode (or adaptive, via AWS_RETRY_MODE); AWS_MAX_ATTEMPTS is honoured."""
    mode = os.environ.get("AWS_RETRY_MODE", "standard")
    if mode not in ("standard", "adaptive"):
        mode = "standard"
    try:
        attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
    except ValueError:
        attempts = DEFAULT_MAX_ATTEMPTS
    # total_max_attempts counts the first call too, as AWS_MAX_ATTEMPTS does (max_attempts would not).
    return {"mode": mode, "total_max_attempts": max(1, attempts)}


def quota_from_env(value: float | str | None = None) -> float:
    """The quota in requests/s per action: `value`, else $ECSCHED_QUOTA, else 50. 0 turns pacing off."""
    raw = value if value is not None else os.environ.get("ECSCHED_QUOTA")
    if raw is None or raw == "":
        return DEFAULT_QUOTA
    try:
        quota = float(raw)
    except ValueError:
        raise EcschedError(f"quota `{raw}` is not a number of requests per second (ECSCHED_QUOTA, --quota)") from None
    if quota < 0:
        raise EcschedError(f"quota {raw} must be 0 (no pacing) or more requests per second")
    return quota


class TokenBucket:
    """`rate` tokens per second, at most `burst`; starts full. Thread-safe.

    `acquire` reserves a token and sleeps until it is due, so waiting threads are served in order and
    the lock is never held while sleeping. On throttling the rate backs off (x0.7, tokens emptied) and
    climbs back by 2% of the quota per success: additive increase, multiplicative decrease.
    """

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.quota = rate
        self.rate = rate
        self.burst = max(1.0, burst)
        self._tokens = self.burst
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._lock = threading.Lock()
        self.acquired = 0  # tokens handed out
        self.delayed = 0  # of those, how many had to wait
        self.throttles = 0

    def reserve(self) -> float:
        """Take a token now or in the future; returns the seconds until it is due."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            self.acquired += 1
            if self._tokens >= 0:
                return 0.0
            self.delayed += 1
            return -self._tokens / self.rate

    def acquire(self) -> float:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait

    def set_quota(self, rate: float, burst: float) -> None:
        with self._lock:
            self.quota = self.rate = rate
            self.burst = max(1.0, burst)
            self._tokens = min(self._tokens, self.burst)

    def on_throttled(self) -> None:
        with self._lock:
            self.throttles += 1
            self.rate = max(self.quota * 0.05, self.rate * 0.7)
            self._tokens = min(self._tokens, 0.0)

    def on_success(self) -> None:
        if self.rate < self.quota:
            with self._lock:
                self.rate = min(self.quota, self.rate + self.quota * 0.02)


READS = ("List", "Describe", "Get")


class Retries:
    """botocore's standard retry decision (conditions and backoff), registered on `needs-retry` of a client
    whose own retry handler is limited to one attempt. Reads retry without a retry quota; writes take
    from a quota of their own (botocore's RetryQuota: 500, a failure costs 5 or 14, a success pays back)."""

    def __init__(self, attempts: int, service_id: str) -> None:
        from botocore.retries import quota, standard

        self.attempts = attempts
        self._adapter = standard.RetryEventAdapter()
        self._conditions = standard.StandardRetryConditions(max_attempts=attempts)
        detector = standard.ThrottlingErrorDetector(self._adapter)
        self._backoff = standard.ExponentialBackoff(service_name=service_id, throttling_detector=detector)
        self.write_quota = standard.RetryQuotaChecker(quota.RetryQuota(), detector)
        self.retried = 0  # retries granted, reads and writes
        self.refused = 0  # writes not retried: their quota was used up

    def needs_retry(self, **kwargs: Any) -> float | None:
        context = self._adapter.create_retry_context(**kwargs)
        delay: float | None = None
        if self._conditions.is_retryable(context):
            op = getattr(context.operation_model, "name", "")
            if op.startswith(READS) or self.write_quota.acquire_retry_quota(context):
                delay = float(self._backoff.delay_amount(context))
                self.retried += 1
            else:
                self.refused += 1
        self._adapter.adapt_retry_response_from_context(context)
        return delay

    def register(self, client: Any) -> None:
        event_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"needs-retry.{event_id}", self.needs_retry)
        client.meta.events.register(f"after-call.{event_id}", self.write_quota.release_retry_quota)


class Cancelled(EcschedError):
    """A call queued by work that the run no longer needs (see Pacer.cancelled)."""


class Pacer:
    """One token bucket per (region, service, API action)."""

    def __init__(self, quota: float) -> None:
        self.quota = quota
        self.buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self._detector: Any = None
        self.cancelled = False  # set when the run gave up: calls still queued fail at once

    def set_quota(self, quota: float) -> None:
        """A new quota. Buckets already in use keep what they spent: a fresh one would hand out a second
        burst in the same second."""
        if quota == self.quota:
            return
        with self._lock:
            self.quota = quota
            for b in self.buckets.values():
                b.set_quota(quota, quota * BURST_FRACTION)

    def bucket(self, key: tuple[str, str, str]) -> TokenBucket | None:
        if self.quota <= 0:
            return None
        b = self.buckets.get(key)
        if b is None:
            with self._lock:
                b = self.buckets.setdefault(key, TokenBucket(self.quota, self.quota * BURST_FRACTION))
        return b

    def register(self, client: Any, region: str) -> None:
        model = client.meta.service_model
        service, event_id = model.service_name, model.service_id.hyphenize()  # "events", "eventbridge"

        def before_send(event_name: str = "", **_: Any) -> None:
            if self.cancelled:
                raise Cancelled("the run stopped: this AWS call was not sent")
            b = self.bucket((region, service, event_name.rsplit(".", 1)[-1]))
            if b is not None:
                b.acquire()

        def needs_retry(operation: Any = None, **kwargs: Any) -> None:
            b = self.bucket((region, service, getattr(operation, "name", "")))
            if b is None:
                return
            if self._throttling(operation=operation, **kwargs):
                b.on_throttled()
            elif kwargs.get("caught_exception") is None:
                b.on_success()

        client.meta.events.register(f"before-send.{event_id}", before_send)
        client.meta.events.register(f"needs-retry.{event_id}", needs_retry)

    def _throttling(self, **kwargs: Any) -> bool:
        if self._detector is None:
            from botocore.retries.standard import RetryEventAdapter, ThrottlingErrorDetector

            self._detector = ThrottlingErrorDetector(RetryEventAdapter())
        return bool(self._detector.is_throttling_error(**kwargs))


_LOADER: Any = None
_LOADER_LOCK = threading.Lock()


def _botocore_session() -> Any:
    """A new botocore session that shares one service-model loader with every other in this process.

    botocore parses each service's model JSON once per loader; a process that makes several Aws
    handles (the demo, the test suite, `migrate`) would otherwise parse them again for each.
    """
    global _LOADER
    import botocore.loaders
    import botocore.session

    session = botocore.session.get_session()
    with _LOADER_LOCK:
        if _LOADER is None:
            _LOADER = botocore.loaders.create_loader()
        # boto3.Session appends its resource-model folder to the loader's paths each time: keep one copy.
        paths = _LOADER.search_paths
        paths[:] = list(dict.fromkeys(paths))
    session.register_component("data_loader", _LOADER)
    return session


class Aws:
    """One per run: a session, cached clients per (service, region), and the caller's account."""

    def __init__(self, region: str | None = None, profile: str | None = None, max_pool: int = 16,
                 quota: float | None = None) -> None:
        self._region = region
        self._profile = profile
        self._max_pool = max_pool
        self._session: Any = None
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._account: Account | None = None
        self._lock = threading.Lock()
        self._account_lock = threading.Lock()
        self.pacer = Pacer(quota_from_env(quota))

    def configure(self, *, quota: float | str | None = None, parallel: int | None = None) -> None:
        """`--quota` and `--parallel`: before the clients they shape are created (buckets are per run)."""
        if quota is not None:
            self.pacer.set_quota(quota_from_env(quota))
        if parallel:
            self._max_pool = max(self._max_pool, parallel)

    @property
    def session(self) -> Any:
        if self._session is None:
            import boto3

            try:
                self._session = boto3.Session(botocore_session=_botocore_session(), profile_name=self._profile,
                                              region_name=self._region)
            except Exception as e:  # ProfileNotFound and friends
                raise EcschedError(f"cannot create an AWS session: {e}") from e
        return self._session

    @property
    def region(self) -> str:
        # boto3 reads AWS_DEFAULT_REGION only; CI systems (GitHub Actions among them) set AWS_REGION.
        region = self._region or self.session.region_name or os.environ.get("AWS_REGION")
        if not region:
            raise EcschedError("no AWS region: set `region:` in the config, pass --region, or set AWS_REGION")
        return str(region)

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        with self._lock:
            if key not in self._clients:
                from botocore.config import Config

                policy = retries()
                # botocore's own handler makes one attempt; Retries decides on the others (see above).
                cfg = Config(retries={"mode": policy["mode"], "total_max_attempts": 1},
                             max_pool_connections=self._max_pool)
                client = self.session.client(service, region_name=key[1] or self.region, config=cfg)
                self.pacer.register(client, str(key[1]))
                Retries(int(policy["total_max_attempts"]), client.meta.service_model.service_id.hyphenize()
                        ).register(client)
                self._clients[key] = client
            return self._clients[key]

    def account(self) -> Account:
        """One sts:GetCallerIdentity per run, however many rules (and threads) need the account id."""
        with self._account_lock:
            if self._account is not None:
                return self._account
            ident = self.client("sts").get_caller_identity()
            partition = str(ident["Arn"]).split(":")[1] if str(ident.get("Arn", "")).startswith("arn:") else "aws"
            self._account = Account(id=str(ident["Account"]), partition=partition)
            return self._account
