"""Two applies at once (issue 16 §2): with `lockTable` in the config, apply holds a lease per trackingId and
region. Tested with two real processes against the moto server; the first is slowed by the fault layer so
that the second arrives while it holds the lease."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Result, client
from tests.fault_server import FaultServer

TABLE = "ecsched-locks"


def config(tmp_path: Path, *, lock: bool = True, revision: int = 1) -> str:
    path = tmp_path / "ecsched.yaml"
    head = f"region: us-east-1\ncluster: api\nrole: ecsEventsRole\n{'lockTable: ' + TABLE if lock else ''}\nrules:\n"
    rules = "".join(f"- name: job-{i}\n  scheduleExpression: cron({i} 3 * * ? *)\n  taskDefinition: task1\n"
                    f"  containerOverrides: [{{name: app, command: [run, '{revision}']}}]\n" for i in range(3))
    path.write_text(head + rules)
    return str(path)


@pytest.fixture
def slow(aws: str, cli: Callable[..., Result], tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultServer]:
    """The lock table, the rules applied once (so the next apply reads them, slowly), and the fault layer."""
    assert cli("lock", "--create-table", "--table", TABLE).code == 0
    assert cli("-c", config(tmp_path), "apply").code == 0
    with FaultServer(aws) as fs:
        monkeypatch.setenv("AWS_ENDPOINT_URL", fs.url)
        yield fs


def spawn(*argv: str) -> subprocess.Popen[str]:
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.Popen([sys.executable, "-m", "ecsched", *argv], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def item_pid(item: dict[str, object]) -> str:
    """The pid in the lease item's owner (`user@host:pid`)."""
    return str(item["owner"]).rsplit(":", 1)[-1].rstrip("'}\"")


class Holder:
    """A first apply, slowed by the fault layer, that holds the lease while the test runs a second."""

    def __init__(self, slow: FaultServer, path: str, delay: float) -> None:
        slow.add("ListTargetsByRule", "slow", delay=delay)
        self.proc = spawn("-c", path, "apply", "--parallel", "1")

    def __enter__(self) -> dict[str, object]:
        return wait_for_lease()

    def __exit__(self, *exc: object) -> None:
        _, self.err = self.proc.communicate(timeout=120)


def wait_for_lease(timeout: float = 20) -> dict[str, object]:
    ddb = client("dynamodb")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = ddb.scan(TableName=TABLE, ConsistentRead=True)["Items"]
        if items:
            return items[0]
        time.sleep(0.05)
    raise AssertionError("the first apply never took the lease")


@pytest.mark.slow
def test_a_second_apply_exits_75_naming_the_holder(slow: FaultServer, tmp_path: Path) -> None:
    path = config(tmp_path, revision=2)
    with Holder(slow, path, delay=1.5) as item:
        assert "ecsched/api/us-east-1" in str(item)  # one lease per trackingId and region
        second = spawn("-c", path, "apply")
        out, err = second.communicate(timeout=60)
    assert second.returncode == 75, err
    assert "lock ecsched/api/us-east-1 in table ecsched-locks is held by " in err
    assert f":{item_pid(item)}" in err  # the holder, by host and pid
    assert out == "" and "Applied" not in err
    assert client("dynamodb").scan(TableName=TABLE)["Items"] == []  # released


@pytest.mark.slow
def test_a_second_apply_waits_then_reads_what_the_first_wrote(slow: FaultServer, tmp_path: Path) -> None:
    path = config(tmp_path, revision=2)
    holder = Holder(slow, path, delay=1.0)
    with holder:
        second = spawn("-c", path, "apply", "--lock-timeout", "60")
        out, err = second.communicate(timeout=120)
    assert holder.proc.returncode == 0, holder.err
    assert second.returncode == 0, err
    assert "waiting up to 60 s for lease ecsched/api/us-east-1, held by " in err
    # It read the live state after the first apply had created the rules: nothing left to do.
    assert "Applied 0 changes." in err and "No changes: AWS matches the file." in out


@pytest.mark.slow
def test_no_lock_runs_beside_a_holder_and_says_so(slow: FaultServer, cli: Callable[..., Result],
                                                   tmp_path: Path) -> None:
    path = config(tmp_path, revision=2)
    with Holder(slow, path, delay=1.0):
        res = cli("-c", path, "apply", "--no-lock")
    assert res.code == 0, res.err
    assert "--no-lock: apply runs without the lease" in res.err


def test_without_a_lock_table_apply_warns_once(aws: str, cli: Callable[..., Result], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from ecsched.sync import lease

    monkeypatch.setattr(lease, "_warned_no_table", False)
    path = config(tmp_path, lock=False)
    first = cli("-c", path, "apply")
    assert first.code == 0
    assert first.err.count("no lockTable in the config") == 1
    assert "no lockTable" not in cli("-c", path, "apply").err  # once per process
