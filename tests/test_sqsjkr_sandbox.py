"""Seeding the sandbox for job rules, twice, and watching a sent job arrive without consuming it."""

from __future__ import annotations

from ecsched.sqsjkr.job import Job, parse_input
from ecsched.sqsjkr.locks import check_table
from ecsched.sqsjkr.policy import allows_send, read_policy
from ecsched.sqsjkr.sandbox import peek, seed
from ecsched.sqsjkr.send import send_job
from tests.conftest import client
from tests.sqsjkr_helpers import RULE_ARN


def test_seed_is_idempotent_and_the_job_arrives(aws: str) -> None:
    sqs, ddb = client("sqs"), client("dynamodb")
    a = seed(sqs, ddb, rule_arns=(RULE_ARN,))
    b = seed(sqs, ddb, rule_arns=(RULE_ARN,))
    assert a == b and check_table(ddb, a.table) is None
    policy = read_policy(sqs, a.queue_url)
    assert allows_send(policy, a.queue_arn, RULE_ARN).allowed
    assert policy is not None and policy.count("events.amazonaws.com") == 1  # the second seed added nothing
    assert peek(sqs, a.queue_url, wait=0) == []
    sent = send_job(sqs, a.queue_url, Job("php artisan export:orders"), rule="orders-export")
    for _ in range(2):  # peeking leaves the message for the worker
        (m,) = peek(sqs, a.queue_url)
        assert m["MessageId"] == sent.message_id and parse_input(m["Body"]).event_id == sent.event_id


def test_seed_a_fifo_queue(aws: str) -> None:
    s = seed(client("sqs"), client("dynamodb"), queue="sqsjkr-jobs.fifo")
    attrs = client("sqs").get_queue_attributes(QueueUrl=s.queue_url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true" and attrs["ContentBasedDeduplication"] == "true"
