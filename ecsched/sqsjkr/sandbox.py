"""What `ecsched sandbox` and `ecsched demo` need for job rules: the queue, sqsjkr's lock table, and a way
to show a message arriving without taking it from the worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecsched.sqsjkr.policy import fix_queue_policy


@dataclass(frozen=True)
class Seeded:
    queue_url: str
    queue_arn: str
    table: str


def seed(sqs: Any, ddb: Any, *, queue: str = "sqsjkr-jobs", table: str = "sqsjkr-lock",
         rule_arns: tuple[str, ...] = ()) -> Seeded:
    """Create (or find) the queue and the lock table, and let the rules send. Safe to run twice."""
    attrs = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if queue.endswith(".fifo") else {}
    url = sqs.create_queue(QueueName=queue, Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    try:
        ddb.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}, {"AttributeName": "Type", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "S"},
                                  {"AttributeName": "Type", "AttributeType": "S"}],
        )
    except ddb.exceptions.ResourceInUseException:
        pass
    for rule_arn in rule_arns:
        fix_queue_policy(sqs, url, arn, rule_arn)
    return Seeded(url, arn, table)


def peek(sqs: Any, queue_url: str, *, wait: int = 1) -> list[dict[str, Any]]:
    """The messages waiting in the queue, left there (visibility timeout 0): for the demo's "it arrived"."""
    msgs = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait,
                               VisibilityTimeout=0, AttributeNames=["SentTimestamp"]).get("Messages", [])
    return [{"MessageId": m["MessageId"], "Body": m["Body"],
             "SentTimestamp": (m.get("Attributes") or {}).get("SentTimestamp")} for m in msgs]
