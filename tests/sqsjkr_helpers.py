"""Test doubles for sqsjkr's side: real SQS queues, a lock table and a log group in moto, and a worker
thread that does what sqsjkr's worker does (worker.go, job.go, lock/dynamodb_lock.go), call for call."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import ACCOUNT, REGION, client

RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders-export"


def make_queue(name: str = "sqsjkr-jobs", *, content_dedup: bool = False, policy: dict[str, Any] | None = None,
               **attrs: str) -> tuple[str, str]:
    """(queue URL, queue ARN)."""
    sqs = client("sqs")
    a = dict(attrs)
    if name.endswith(".fifo"):
        a["FifoQueue"] = "true"
        if content_dedup:
            a["ContentBasedDeduplication"] = "true"
    if policy is not None:
        a["Policy"] = json.dumps(policy)
    url = sqs.create_queue(QueueName=name, Attributes=a)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def make_lock_table(name: str = "sqsjkr-lock") -> str:
    """sqsjkr's lock table as its examples/dynamodb.tf creates it: Id (hash), Type (range)."""
    ddb = client("dynamodb")
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}, {"AttributeName": "Type", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "S"},
                              {"AttributeName": "Type", "AttributeType": "S"}],
    )
    return name


def make_log_group(name: str = "/ecs/sqsjkr-worker", stream: str = "worker/app/1") -> tuple[str, str]:
    logs = client("logs")
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName=stream)
    return name, stream


def put_lines(group: str, stream: str, *lines: str) -> None:
    now = int(time.time() * 1000)
    client("logs").put_log_events(logGroupName=group, logStreamName=stream,
                                  logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(lines)])


def sqsjkr_lock(table: str, lock_id: str, event_id: str) -> bool:
    """sqsjkr's DynamodbLock.Lock, exactly: UpdateItem under attribute_not_exists(EventId)."""
    ddb = client("dynamodb")
    try:
        ddb.update_item(TableName=table, Key={"Id": {"S": lock_id}, "Type": {"S": "lock"}},
                        ExpressionAttributeNames={"#eventid": "EventId"},
                        ExpressionAttributeValues={":EventId": {"S": event_id}},
                        ConditionExpression="attribute_not_exists(EventId)", UpdateExpression="set #eventid = :EventId")
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def sqsjkr_unlock(table: str, lock_id: str) -> None:
    """sqsjkr's DynamodbLock.Unlock: a plain DeleteItem, no condition."""
    client("dynamodb").delete_item(TableName=table, Key={"Id": {"S": lock_id}, "Type": {"S": "lock"}})


@dataclass
class FakeWorker:
    """One sqsjkr worker: receive, log `CMD`, lock, "run" for `runtime` s, unlock, log a failure line when
    `exit_status` is not 0 (after the unlock, as worker.go does). Stops after one job or `give_up` s."""

    queue_url: str
    table: str | None = None
    log: tuple[str, str] | None = None
    runtime: float = 0.5
    exit_status: int = 0
    give_up: float = 10.0
    bodies: list[str] = field(default_factory=list)
    thread: threading.Thread | None = None

    def _line(self, text: str) -> None:
        if self.log:
            put_lines(*self.log, f"2026/12/02 16:00:00 worker.go:71: {text}")

    def _run(self) -> None:
        sqs = client("sqs")
        end = time.monotonic() + self.give_up
        while time.monotonic() < end:
            msgs = sqs.receive_message(QueueUrl=self.queue_url, WaitTimeSeconds=1, AttributeNames=["All"],
                                       MaxNumberOfMessages=1).get("Messages", [])
            if not msgs:
                continue
            msg = msgs[0]
            sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=msg["ReceiptHandle"])  # before running
            self.bodies.append(msg["Body"])
            body = json.loads(msg["Body"])
            event_id = body.get("event_id") or msg["MessageId"]
            self._line(f"[info] CMD event_id:{event_id} command:{body['command']}")
            lock_id = body.get("lock_id")
            if lock_id and self.table:
                while not sqsjkr_lock(self.table, lock_id, event_id):
                    if body.get("abort_if_locked"):
                        self._line(f"[error] [event:{event_id}] failed to invoke command, reason: Already "
                                   f"'{lock_id}' is locked, error_code:ConditionalCheckFailedException, "
                                   "reason:The conditional request failed, job: &sqsjkr.DefaultJob{}")
                        return
                    time.sleep(0.1)  # sqsjkr: 5 s
            time.sleep(self.runtime)
            if lock_id and self.table:
                sqsjkr_unlock(self.table, lock_id)
            if self.exit_status:
                self._line(f"[error] [event:{event_id}] failed to invoke command, reason: exit status "
                           f"{self.exit_status}, job: &sqsjkr.DefaultJob{{}}")
            return

    def start(self) -> FakeWorker:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def join(self) -> None:
        assert self.thread is not None
        self.thread.join(timeout=self.give_up + 5)
