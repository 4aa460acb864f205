"""Where `ecsched lock` can run (portability guards), and the `ecsched locks` views."""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import client
from lock_helpers.harness import TABLE, TASK_ARN, env

from ecsched.context import Context
from ecsched.lock import shell_exit_code

pytest_plugins = ["lock_helpers.fixtures"]


def test_shell_exit_code() -> None:
    assert [shell_exit_code(c) for c in (0, 3, -15, -9)] == [0, 3, 143, 137]


def test_import_and_a_locked_run_need_neither_sighup_nor_waitid(table: str, tmp_path: Path) -> None:
    """Windows has no SIGHUP (it was read at import time); macOS has no os.waitid before Python 3.13."""
    code = ("import os, signal, sys; del signal.SIGHUP; del os.waitid; import ecsched.lock; "
            "from ecsched.cli import main; "
            f"sys.exit(main(['lock', '--table', '{TABLE}', '--key', 'k', '--', 'sh', '-c', 'exit 7']))")
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env(), capture_output=True, text=True,
                         timeout=60, start_new_session=True)
    assert res.returncode == 7, res.stderr


@pytest.mark.parametrize("missing", ["killpg", "os.name"])
def test_without_process_groups_lock_says_so_in_one_line_and_locks_still_works(
    table: str, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, missing: str
) -> None:
    if missing == "killpg":
        monkeypatch.delattr(os, "killpg")
    else:
        monkeypatch.setattr(os, "name", "nt")
    marker = tmp_path / "ran"
    res = cli("lock", "--table", TABLE, "--key", "k", "--", "touch", str(marker))
    assert res.code == 125
    assert len(res.err.strip().splitlines()) == 1 and "Linux or macOS" in res.err
    assert not marker.exists()
    assert cli("locks", "--table", TABLE).code == 0  # only DynamoDB: works everywhere


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
