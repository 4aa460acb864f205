"""`run` for a job: the message sent, and --wait against a lock table and a log group driven by a worker
thread that makes sqsjkr's own calls."""

from __future__ import annotations

import json
import time

import pytest

from ecsched.errors import EcschedError
from ecsched.sqsjkr.job import Job, parse_input
from ecsched.sqsjkr.send import (
    EXIT_TIMEOUT,
    EXIT_UNKNOWN,
    FollowOptions,
    Outcome,
    failure_of,
    follow,
    manual_event_id,
    send_job,
)
from tests.conftest import client
from tests.sqsjkr_helpers import FakeWorker, make_lock_table, make_log_group, make_queue, put_lines, sqsjkr_lock

JOB = Job("php artisan export:orders", lock_id="export-orders", life_time="10m", abort_if_locked=False)


def test_manual_event_id_is_unique_and_readable() -> None:
    a, b = manual_event_id("orders-export", 0), manual_event_id("orders-export", 0)
    assert a != b and a.startswith("orders-export:manual:19700101T000000Z-")


def test_send_puts_the_job_with_a_unique_event_id(aws: str) -> None:
    url, _ = make_queue()
    sent = send_job(client("sqs"), url, JOB, rule="orders-export")
    (msg,) = client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert msg["MessageId"] == sent.message_id
    got = parse_input(msg["Body"])
    assert got.event_id == sent.event_id and ":manual:" in got.event_id
    assert got.command == JOB.command and got.lock_id == JOB.lock_id


def test_send_to_fifo_needs_the_group_and_sets_a_dedup_id(aws: str) -> None:
    url, _ = make_queue("jobs.fifo")  # no content-based dedup: the send must carry its own id
    with pytest.raises(EcschedError, match="messageGroupId"):
        send_job(client("sqs"), url, JOB, rule="r")
    a = send_job(client("sqs"), url, JOB, rule="r", message_group_id="batch")
    b = send_job(client("sqs"), url, JOB, rule="r", message_group_id="batch")
    msgs = client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert {m["MessageId"] for m in msgs} == {a.message_id, b.message_id}  # two runs, two messages
    assert {m["Attributes"]["MessageGroupId"] for m in msgs} == {"batch"}


@pytest.mark.parametrize(("line", "code", "reason"), [
    ("2026/12/02 worker.go:71: [error] [event:E] failed to invoke command, reason: exit status 3, job: &x{}", 3,
     "exit status 3"),
    ("[error] [event:E] errored to invoke command, reason: exit status 1, job: &x{}", 1, "exit status 1"),
    ("[error] [event:E] failed to invoke command, reason: signal: killed, job: &x{}", 137, "signal: killed"),
    ("[error] [event:E] failed to invoke command, reason: over life time, job: &x{}", 1, "life_time"),
    ("[error] [event:E] failed to invoke command, reason: Already 'L' is locked, error_code:X, reason:Y, job: &x{}",
     1, "Already 'L' is locked"),
])
def test_failure_lines(line: str, code: int, reason: str) -> None:
    got = failure_of(line, "E")
    assert got is not None and got[0] == code and reason in got[1]
    assert failure_of(line.replace("[event:E]", "[event:E2]"), "E") is None


def run_and_follow(url: str, job: Job, worker: FakeWorker | None, **opts: object) -> tuple[Outcome, list[str]]:
    if worker:
        worker.start()
    sent = send_job(client("sqs"), url, job, rule="orders-export")
    events: list[str] = []
    options = FollowOptions(event_id=sent.event_id, since=sent.sent_at, lock_id=job.lock_id or None,
                            poll=0.05, settle=0.5, timeout=15.0, **opts)  # type: ignore[arg-type]
    out = follow(options, ddb=client("dynamodb"), logs=client("logs"), on_event=events.append)
    if worker:
        worker.join()
    return out, events


def test_wait_follows_the_lock_until_it_goes_and_reads_the_exit_status(aws: str) -> None:
    url, _ = make_queue()
    table, log = make_lock_table(), make_log_group()
    worker = FakeWorker(url, table, log, runtime=0.6, exit_status=3)
    out, events = run_and_follow(url, JOB, worker, lock_table=table, log_group=log[0])
    assert (out.status, out.exit_code, out.reason) == ("failed", 3, "exit status 3")
    assert any("held by this event" in e for e in events)
    assert any("released" in e for e in events)
    assert "failed to invoke command, reason: exit status 3" in out.seen[-1]


def test_wait_with_no_failure_line_is_success_said_as_inferred(aws: str) -> None:
    url, _ = make_queue()
    table, log = make_lock_table(), make_log_group()
    out, events = run_and_follow(url, JOB, FakeWorker(url, table, log, runtime=0.4), lock_table=table,
                                 log_group=log[0])
    assert (out.status, out.exit_code) == ("finished", 0)
    assert out.unknown and "debug level" in out.unknown
    # The log line and the lock are polled separately: either may be seen first.
    assert any(e.startswith("the worker took the job") for e in events), events
    assert any(e.startswith("running: lock export-orders") for e in events), events


def test_wait_on_the_lock_alone_cannot_know_the_exit_status(aws: str) -> None:
    url, _ = make_queue()
    table = make_lock_table()
    out, events = run_and_follow(url, JOB, FakeWorker(url, table, runtime=0.4), lock_table=table)
    assert (out.status, out.exit_code) == ("finished", EXIT_UNKNOWN)
    assert out.unknown and "log group" in out.unknown
    assert [e.split(":")[0] for e in events] == ["running", "lock export-orders released"]


def test_wait_on_the_log_alone_sees_a_failure_without_a_lock(aws: str) -> None:
    url, _ = make_queue()
    log = make_log_group()
    job = Job("false")
    out, _ = run_and_follow(url, job, FakeWorker(url, None, log, runtime=0.1, exit_status=2), log_group=log[0])
    assert (out.status, out.exit_code) == ("failed", 2)


def test_wait_on_the_log_alone_cannot_see_success(aws: str) -> None:
    url, _ = make_queue()
    log = make_log_group()
    worker = FakeWorker(url, None, log, runtime=0.1).start()
    sent = send_job(client("sqs"), url, Job("true"), rule="orders-export")
    worker.join()
    events: list[str] = []
    out = follow(FollowOptions(sent.event_id, sent.sent_at, log_group=log[0], poll=0.05, timeout=1.0),
                 logs=client("logs"), on_event=events.append)
    # Without a lock there is no end to see: the wait can only end by its timeout.
    assert out.status == "timeout" and out.exit_code == EXIT_TIMEOUT
    assert out.unknown and "only a failure line" in out.unknown
    assert "no failure line" in out.reason and events == ["the worker took the job (its CMD line)"]


def test_a_leftover_lock_is_named_when_the_wait_times_out(aws: str) -> None:
    url, _ = make_queue()
    table = make_lock_table()
    assert sqsjkr_lock(table, "export-orders", "orders-export:20261201T0000Z-dead")  # a killed worker's lock
    worker = FakeWorker(url, table, runtime=0.1, give_up=3)
    worker.start()
    sent = send_job(client("sqs"), url, JOB, rule="orders-export")
    out = follow(FollowOptions(sent.event_id, sent.sent_at, lock_table=table, lock_id="export-orders", poll=0.05,
                               timeout=1.5), ddb=client("dynamodb"))
    assert (out.status, out.exit_code) == ("timeout", EXIT_TIMEOUT)
    assert "orders-export:20261201T0000Z-dead" in out.reason and "locks --sqsjkr" in out.reason
    from ecsched.sqsjkr.locks import get_lock

    client("dynamodb").delete_item(TableName=table, Key={"Id": {"S": "export-orders"}, "Type": {"S": "lock"}})
    worker.join()
    item = get_lock(client("dynamodb"), table, "export-orders")
    assert item is None or item.event_id == sent.event_id


def test_abort_if_locked_is_reported(aws: str) -> None:
    url, _ = make_queue()
    table, log = make_lock_table(), make_log_group()
    assert sqsjkr_lock(table, "export-orders", "someone-else")
    job = Job("php artisan export:orders", lock_id="export-orders", abort_if_locked=True)
    out, _ = run_and_follow(url, job, FakeWorker(url, table, log), lock_table=table, log_group=log[0])
    assert out.status == "failed" and "abort_if_locked" in out.reason and "export-orders" in out.reason


def test_nothing_to_follow_says_so(aws: str) -> None:
    out = follow(FollowOptions("e", time.time()))
    assert (out.status, out.exit_code) == ("sent", 0)
    assert out.unknown and "cannot be known" in out.unknown
    out = follow(FollowOptions("e", time.time(), lock_table="t"), ddb=client("dynamodb"))
    assert out.unknown and "no lock_id" in out.unknown


def test_no_worker_times_out_before_any_start(aws: str) -> None:
    url, _ = make_queue()
    table = make_lock_table()
    sent = send_job(client("sqs"), url, JOB, rule="orders-export")
    out = follow(FollowOptions(sent.event_id, sent.sent_at, lock_table=table, lock_id="export-orders", poll=0.05,
                               timeout=0.3), ddb=client("dynamodb"))
    assert out.status == "timeout" and "is a worker running" in out.reason


def test_other_events_lines_are_not_ours(aws: str) -> None:
    log = make_log_group()
    put_lines(*log, "[error] [event:r:manual:1] failed to invoke command, reason: exit status 9, job: x",
              "[info] CMD event_id:r:manual:1 command:x")
    out = follow(FollowOptions("r:manual:10", time.time() - 60, log_group=log[0], poll=0.05, timeout=0.3),
                 logs=client("logs"))
    assert out.status == "timeout" and out.seen == []
    out = follow(FollowOptions("r:manual:1", time.time() - 60, log_group=log[0], poll=0.05, timeout=0.3),
                 logs=client("logs"))
    assert (out.status, out.exit_code) == ("failed", 9)
    assert json.dumps(out.as_json())
