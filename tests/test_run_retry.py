"""ecsched.run.retry: which AWS errors are worth another try, and whether a lost answer may hide a write."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from ecsched.run.retry import backoff, explain, is_transient, may_have_committed


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "RunTask")


@pytest.mark.parametrize(("error", "transient", "committed"), [
    (client_error("InternalFailure", 500), True, True),  # the write may have happened
    (client_error("ServiceUnavailable", 503), True, True),
    (client_error("ThrottlingException", 400), True, False),  # refused: nothing happened
    (client_error("AccessDeniedException", 400), False, False),
    (client_error("ClusterNotFoundException", 400), False, False),
    (ConnectionClosedError(endpoint_url="http://x"), True, True),  # sent, answer lost
    (ReadTimeoutError(endpoint_url="http://x"), True, True),
    (EndpointConnectionError(endpoint_url="http://x"), True, False),  # never connected
    (ValueError("a bug of ours"), False, False),
])
def test_classification(error, transient, committed):
    assert is_transient(error) is transient
    assert may_have_committed(error) is committed


def test_backoff_doubles_up_to_the_cap():
    assert [backoff(n, 1.0, cap=10) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert backoff(10_000, 0.01) == 30.0  # no overflow, default cap


def test_explain_is_one_line():
    assert explain(client_error("InternalFailure", 500)) == "RunTask failed: InternalFailure: m"
    assert explain(ValueError("x")) == "ValueError: x"
