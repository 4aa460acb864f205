"""Which AWS errors are worth another try, and how long to wait before it.

botocore already retries each call (standard mode, up to AWS_MAX_ATTEMPTS); what reaches us has used
those up, or botocore's retry quota ran dry under sustained errors. A run that follows a task for hours
must still not let go of it for one bad minute, so the loop retries on its own, with backoff.
"""

from __future__ import annotations

from ecsched.errors import describe_aws_exception

MAX_BACKOFF = 30.0  # seconds between our own retries of one call, at most

# ClientError codes that say "not now" rather than "never".
_TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException", "ProvisionedThroughputExceededException",
    "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalError",
    "InternalServerError", "ServerException", "RequestTimeout", "RequestTimeoutException",
})
_THROTTLING_CODES = frozenset(c for c in _TRANSIENT_CODES if "hrottl" in c or "Limit" in c
                              or "TooMany" in c or "Throughput" in c)


def _botocore(e: BaseException) -> bool:
    return type(e).__module__.startswith(("botocore", "boto3", "urllib3"))


def is_transient(e: BaseException) -> bool:
    """A 5xx, throttling, a reset or a timeout: the same call may well succeed later. Anything that is not
    botocore's (a bug of ours) is not."""
    if not _botocore(e):
        return False
    response = getattr(e, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return status >= 500 or code in _TRANSIENT_CODES
    # Connection refused, reset or closed; read and connect timeouts.
    from botocore.exceptions import ConnectionError, HTTPClientError

    return isinstance(e, (ConnectionError, HTTPClientError))


def is_throttling(e: BaseException) -> bool:
    response = getattr(e, "response", None)
    return isinstance(response, dict) and str(response.get("Error", {}).get("Code", "")) in _THROTTLING_CODES


def may_have_committed(e: BaseException) -> bool:
    """The request may have reached AWS and been carried out although we got no answer: a 5xx or a lost
    connection. Throttling and a refused connection are answers that it was not."""
    if not is_transient(e) or is_throttling(e):
        return False
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

    return not isinstance(e, (EndpointConnectionError, ConnectTimeoutError))


def backoff(failures: int, base: float, cap: float = MAX_BACKOFF) -> float:
    """Seconds to wait after the n-th failure in a row: base, 2 base, 4 base, ... at most `cap`."""
    return float(min(cap, max(base, 0.001) * 2 ** max(0, min(failures - 1, 30))))


def explain(e: BaseException) -> str:
    """One line for an AWS error (botocore's own text is long and multi-part)."""
    return describe_aws_exception(e) or f"{type(e).__name__}: {e}"
