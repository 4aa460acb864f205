"""`ecsched run --rule JOB` against moto: the job is sent (received from the queue here), and --wait
follows a worker thread that locks and unlocks sqsjkr's lock table as sqsjkr does."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result, client
from tests.sqsjkr_helpers import FakeWorker, make_lock_table, make_log_group, make_queue
from tests.test_jobs_apply import job_rule, write


@pytest.fixture(autouse=True)
def fast_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECSCHED_POLL_INTERVAL", "0.05")


def test_run_sends_the_job_with_a_manual_event_id(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    url, _ = make_queue()
    cfg = write(tmp_path, job_rule())
    res = cli("-c", cfg, "run", "--rule", "orders-export")
    assert res.code == 0, res.err
    msgs = client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    assert [m["MessageId"] for m in msgs] == [res.out.strip()]
    body = json.loads(msgs[0]["Body"])
    assert body["command"] == "php artisan export:orders"
    assert body["event_id"].startswith("orders-export:manual:")


def test_run_on_a_fifo_queue_uses_the_rules_group(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    url, _ = make_queue("jobs.fifo")
    cfg = write(tmp_path, job_rule(queue="jobs.fifo", messageGroupId="exports"))
    res = cli("-c", cfg, "run", "--rule", "orders-export", "--format", "json")
    assert res.code == 0, res.err
    out = json.loads(res.out)
    msgs = client("sqs").receive_message(QueueUrl=url, AttributeNames=["All"]).get("Messages", [])
    assert [m["MessageId"] for m in msgs] == [out["messageId"]]
    assert msgs[0]["Attributes"]["MessageGroupId"] == "exports"


def test_wait_follows_the_lock_table_and_says_the_status_is_unknown(
        aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    url, _ = make_queue()
    table = make_lock_table()
    worker = FakeWorker(url, table, runtime=0.5).start()
    cfg = write(tmp_path, job_rule(), sqsjkr={"lockTable": table})
    res = cli("-c", cfg, "run", "--rule", "orders-export", "--wait", "--timeout", "20s", "--format", "json")
    worker.join()
    out = json.loads(res.out)
    assert res.code == 125, res.err
    assert out["status"] == "finished" and "unknown" in out["unknown"]
    assert any("held by this event" in s for s in out["seen"])
    assert json.loads(worker.bodies[0])["event_id"] == out["eventId"]


def test_wait_returns_the_exit_status_from_the_workers_log(
        aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    url, _ = make_queue()
    table, log = make_lock_table(), make_log_group()
    worker = FakeWorker(url, table, log, runtime=0.3, exit_status=3).start()
    cfg = write(tmp_path, job_rule())
    res = cli("-c", cfg, "run", "--rule", "orders-export", "--wait", "--lock-table", table, "--log-group", log[0],
              "--timeout", "20s")
    worker.join()
    assert res.code == 3, res.err
    assert "exit status 3" in res.err


def test_wait_behind_a_leftover_lock_times_out_naming_it(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    from tests.sqsjkr_helpers import sqsjkr_lock, sqsjkr_unlock

    url, _ = make_queue()
    table = make_lock_table()
    assert sqsjkr_lock(table, "export-orders", "old-event")
    rule = job_rule()
    rule["job"]["abort_if_locked"] = False
    worker = FakeWorker(url, table, give_up=3).start()
    cfg = write(tmp_path, rule, sqsjkr={"lockTable": table})
    res = cli("-c", cfg, "run", "--rule", "orders-export", "--wait", "--timeout", "2s")
    sqsjkr_unlock(table, "export-orders")  # lets the worker, still retrying, take it and finish
    worker.join()
    assert res.code == 124
    assert "old-event" in res.err


def test_ecs_options_on_a_job_rule_are_refused(aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    make_queue()
    cfg = write(tmp_path, job_rule())
    res = cli("-c", cfg, "run", "--rule", "orders-export", "--count", "2")
    assert res.code == 125 and "--count" in res.err


def test_run_of_a_job_whose_queue_is_missing_is_one_clear_error(
        aws: str, cli: Callable[..., Result], tmp_path: Path) -> None:
    cfg = write(tmp_path, job_rule())
    res = cli("-c", cfg, "run", "--rule", "orders-export")
    assert res.code == 125
    assert "queue sqsjkr-jobs does not exist" in res.err and "Traceback" not in res.err
