"""The lock table and its records: setup, errors that stop before the command, `ecsched locks`
(list, views, release), and the records that run a scheduled time at most once (dedupe)."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lock_helpers.harness import (
    TABLE,
    TASK_ARN,
    TRAPPING,
    Background,
    delivery,
    env,
    http_server,
    item,
    lock_argv,
    ready,
    run,
    wait_for,
)

from ecsched.context import Context
from tests.conftest import client

pytest_plugins = ["lock_helpers.fixtures"]  # the `bg` and `table` fixtures


def test_create_table_is_idempotent(aws: str, cli: Callable[..., Any]) -> None:
    first = cli("lock", "--create-table", "--table", TABLE)
    second = cli("lock", "--create-table", "--table", TABLE)
    assert (first.code, second.code) == (0, 0), first.err + second.err
    assert "created" in first.err and "already exists" in second.err
    ddb = client("dynamodb")
    desc = ddb.describe_table(TableName=TABLE)["Table"]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert desc["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    ttl = ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


def test_missing_table_is_one_error_and_the_command_does_not_run(aws: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    res = run(lock_argv("--key", "k", "--", "touch", str(marker), table="no-such-table"), tmp_path)
    assert res.returncode == 125
    assert "no-such-table" in res.stderr and "ecsched lock --create-table --table no-such-table" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not marker.exists()


def test_missing_permission_is_one_error_and_the_command_does_not_run(aws: str, tmp_path: Path) -> None:
    body = json.dumps({"__type": "com.amazon.coral.service#AccessDeniedException",
                       "message": "User: arn:aws:sts::123456789012:assumed-role/app/x is not authorized to "
                                  "perform: dynamodb:PutItem"}).encode()
    marker = tmp_path / "ran"
    with http_server(lambda h: (400, {"Content-Type": "application/x-amz-json-1.0"}, body)) as url:
        res = run(lock_argv("--key", "k", "--", "touch", str(marker)), tmp_path, AWS_ENDPOINT_URL_DYNAMODB=url)
    assert res.returncode == 125
    assert TABLE in res.stderr and "task role" in res.stderr and "dynamodb:GetItem" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not marker.exists()


def test_table_from_env_then_config_and_none_is_an_error(
    table: str, cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ECSCHED_LOCK_TABLE", raising=False)
    res = cli("lock", "--key", "k", "--", "true")  # no flag, no variable, no config file
    assert res.code == 125 and "no lock table" in res.err
    (tmp_path / "ecsched.yaml").write_text(f"region: us-east-1\nlockTable: {TABLE}\nrules: []\n")
    res = cli("lock", "--key", "k", "--", "sh", "-c", "exit 4")
    assert res.code == 4, res.err
    monkeypatch.setenv("ECSCHED_LOCK_TABLE", "from-env")  # the variable wins over the config
    res = cli("lock", "--key", "k", "--", "true")
    assert res.code == 125 and "'from-env' does not exist" in res.err


def test_locks_release_asks_on_a_tty_refuses_without_one_and_stops_the_holder(
    table: str, tmp_path: Path, bg: Callable[..., Background]
) -> None:
    pid_file, marker = tmp_path / "pid", tmp_path / "marker"
    holder = bg(lock_argv("--key", "k", "--lease", "3s", "--",
                          "sh", "-c", TRAPPING, "sh", str(pid_file), str(marker)))
    wait_for("the child to start", ready(pid_file))
    release = [sys.executable, "-m", "ecsched", "locks", "release", "k", "--table", TABLE]

    res = subprocess.run(release, cwd=tmp_path, env=env(), stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=60, start_new_session=True)
    assert res.returncode == 1 and "--yes" in res.stderr and "Traceback" not in res.stderr
    assert item("k") is not None

    def on_tty(answer: bytes) -> subprocess.CompletedProcess[str]:
        primary, secondary = os.openpty()
        try:
            os.write(primary, answer)  # typed ahead: the terminal keeps it until read
            return subprocess.run(release, cwd=tmp_path, env=env(), stdin=secondary, capture_output=True,
                                  text=True, timeout=60, start_new_session=True)
        finally:
            os.close(secondary)
            os.close(primary)

    res = on_tty(b"n\n")
    assert res.returncode == 1 and "release lock k (held by" in res.stderr
    assert item("k") is not None

    res = on_tty(b"y\n")
    assert res.returncode == 0, res.stderr
    assert item("k") is None
    assert holder.wait() == 3, holder.err  # force-released: the holder no longer owns it, so it stops
    assert marker.read_text().strip() == "TERM"
    assert "lease was lost" in holder.err


def test_locks_release_yes_and_missing_key(table: str, cli: Callable[..., Any]) -> None:
    ddb = client("dynamodb")
    ddb.put_item(TableName=TABLE, Item={"key": {"S": "old"}, "kind": {"S": "lease"}, "owner": {"S": "h:1"},
                                        "token": {"S": "t"}, "acquired_at": {"N": "1"},
                                        "expires_at": {"N": "2"}})
    res = cli("locks", "--table", TABLE, "--format", "json")
    assert json.loads(res.out) == []  # expired: not held
    res = cli("locks", "--table", TABLE, "--all", "--format", "json")
    assert [(r["key"], r["state"]) for r in json.loads(res.out)] == [("old", "expired")]
    res = cli("locks", "release", "old", "--table", TABLE, "--yes")
    assert res.code == 0 and item("old") is None
    res = cli("locks", "release", "old", "--table", TABLE, "--yes")
    assert res.code == 1 and "nothing to release" in res.err


# --- dedupe -----------------------------------------------------------------------------------------------


def test_second_delivery_of_a_scheduled_time_is_skipped_even_after_the_first_finished(
    table: str, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    append = ["sh", "-c", 'echo "$ECSCHED_SCHEDULED_TIME" >> "$1"', "sh", str(runs)]
    first = run(lock_argv("--", *append), tmp_path, **delivery())
    assert first.returncode == 0, first.stderr
    assert item("nightly") is None  # the lease itself is released

    second = run(lock_argv("--on-locked", "fail", "--", *append), tmp_path, **delivery())
    assert second.returncode == 0  # a duplicate is no alarm, whatever --on-locked says
    assert "already ran for scheduled time 2026-11-30T18:30:00Z" in second.stderr
    assert runs.read_text().splitlines() == ["2026-11-30T18:30:00Z"]

    nxt = run(lock_argv("--", *append), tmp_path, **delivery("2026-11-30T18:31:00Z"))
    assert nxt.returncode == 0
    assert runs.read_text().splitlines() == ["2026-11-30T18:30:00Z", "2026-11-30T18:31:00Z"]

    # Expiry is in the condition: an expired record (never swept by moto) no longer blocks.
    client("dynamodb").update_item(TableName=TABLE, Key={"key": {"S": "nightly@2026-11-30T18:30:00Z"}},
                                   UpdateExpression="SET expires_at = :p", ExpressionAttributeValues={
                                       ":p": {"N": str(int(time.time()) - 5)}})
    again = run(lock_argv("--", *append), tmp_path, **delivery())
    assert again.returncode == 0
    assert runs.read_text().splitlines()[-1] == "2026-11-30T18:30:00Z"
    assert len(runs.read_text().splitlines()) == 3


def test_duplicate_delivery_while_the_first_runs_is_skipped(
    table: str, tmp_path: Path, bg: Callable[..., Background]
) -> None:
    pid_file, marker = tmp_path / "pid", tmp_path / "ran"
    first = bg(lock_argv("--", "sh", "-c", TRAPPING, "sh", str(pid_file), str(tmp_path / "m")), **delivery())
    wait_for("the first copy to start", ready(pid_file))
    dup = run(lock_argv("--on-locked", "fail", "--", "touch", str(marker)), tmp_path, **delivery())
    assert dup.returncode == 0 and "already running" in dup.stderr
    other = run(lock_argv("--on-locked", "fail", "--", "touch", str(marker)), tmp_path,
                **delivery("2026-11-30T18:31:00Z"))
    assert other.returncode == 75  # a different scheduled time is a real conflict
    assert not marker.exists()
    first.proc.send_signal(signal.SIGTERM)
    assert first.wait() == 3


def test_a_scheduled_time_killed_midway_is_not_run_again(
    table: str, tmp_path: Path, bg: Callable[..., Background]
) -> None:
    pid_file, marker = tmp_path / "pid", tmp_path / "ran"
    first = bg(lock_argv("--lease", "2s", "--", "sh", "-c", 'echo $$ > "$1"; exec sleep 60', "sh",
                         str(pid_file)), **delivery())
    wait_for("the first copy to start", ready(pid_file))
    first.proc.kill()
    first.wait()
    stale = item("nightly")
    assert stale is not None
    # Until then the duplicate would see a lease for its own scheduled time and skip on that alone.
    wait_for("the stale lease to expire", lambda: int(stale["expires_at"]["N"]) < int(time.time()))
    dup = run(lock_argv("--lease", "2s", "--on-locked", "wait", "--wait-timeout", "30s", "--",
                        "touch", str(marker)), tmp_path, **delivery())
    assert dup.returncode == 0, dup.stderr
    assert "took over the expired lease" in dup.stderr and "already ran" in dup.stderr
    assert not marker.exists()


# --- `ecsched locks` -------------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def held(key: str, owner: str, what: str | None = None) -> None:
    now = int(time.time())
    row = {"key": {"S": key}, "kind": {"S": "lease"}, "owner": {"S": owner}, "token": {"S": "t"},
           "acquired_at": {"N": str(now - 5)}, "expires_at": {"N": str(now + 600)}}
    if what:
        row["what"] = {"S": what}
    client("dynamodb").put_item(TableName=TABLE, Item=row)


def list_locks(stdout: io.StringIO) -> str:
    from ecsched.commands import locks

    args = argparse.Namespace(action="list", key=None, table=TABLE, format="text", all=False, yes=False,
                              config=None)
    assert locks.run(args, Context(args=args, color=False, stdout=stdout, stderr=io.StringIO())) == 0
    return stdout.getvalue()


def test_locks_on_a_terminal_is_a_table_and_piped_is_plain_exact_text(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    held("nightly", TASK_ARN)
    held("ecsched/acme/us-east-1", "alice@ci-runner:4242", what="apply")
    piped = list_locks(io.StringIO()).splitlines()
    assert [line.split()[:2] for line in piped] == [
        ["KEY", "OWNER"], ["ecsched/acme/us-east-1", "alice@ci-runner:4242"], ["nightly", TASK_ARN]]
    assert "(apply)" in piped[1]
    widths = {m.start() for line in piped[1:] for m in [re.search(r"\d{4}-\d\d-\d\dT", line)] if m}
    assert len(widths) == 1, piped  # aligned columns

    monkeypatch.setenv("COLUMNS", "100")
    drawn = list_locks(Terminal())
    lines = drawn.splitlines()
    assert all(len(line) <= 100 for line in lines), drawn
    assert lines[0].split() == ["KEY", "OWNER", "SINCE", "EXPIRES"] and set(lines[1]) == {"─"}
    assert lines[2].split()[:3] == ["ecsched/acme/us-east-1", "alice@ci-runner:4242", "(apply)"]
    assert lines[3].split()[0] == "nightly"
    # The task ARN folds within its column; the key and both times stay whole on their row.
    assert len(re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", lines[3])) == 2
    assert TASK_ARN not in drawn
    assert "".join([lines[3].split()[1], *(line.strip() for line in lines[4:])]) == TASK_ARN


def test_locks_piped_never_imports_rich(table: str, tmp_path: Path) -> None:
    held("nightly", TASK_ARN)
    code = ("import sys; from ecsched.cli import main; "
            f"code = main(['locks', '--table', '{TABLE}']); print('rich' in sys.modules, file=sys.stderr); "
            "sys.exit(code)")
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env(), capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0 and res.stderr.strip() == "False", res.stderr
    assert res.stdout.splitlines()[1].split()[:2] == ["nightly", TASK_ARN]
