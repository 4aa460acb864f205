"""Where `ecsched lock` can run (portability guards), and the `ecsched locks` views."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lock_helpers.harness import TABLE, env

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
