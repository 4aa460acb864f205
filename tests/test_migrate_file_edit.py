"""The config file after `ecsched migrate`: `backend: scheduler` by the one splicer, in every layout
(flow-style rules, templates), checked before it is written, written atomically, never in a dry run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result
from tests.migrate_helpers import (
    CONFIG,
    QUIET,
    FakeClock,
    rules,
    schedules,
)

pytest_plugins = ["tests.migrate_fixtures"]  # the `migrate`, `ops` and `setup` fixtures


def test_a_flow_style_rule_is_migrated_and_its_line_edited(
        setup: Path, cli: Callable[..., Result], migrate: Callable[..., Result]) -> None:
    flow = CONFIG.replace("  - name: cleanup\n    description: \"old files\"\n    scheduleExpression: cron(0 3 * * ? *)"
                          "\n    taskDefinition: task1\n",
                          '  - {name: cleanup, description: "old files", scheduleExpression: "cron(0 3 * * ? *)",'
                          " taskDefinition: task1}\n")
    assert flow != CONFIG
    setup.write_text(flow)
    res = migrate(FakeClock(QUIET), "-c", str(setup), "--rule", "cleanup")
    assert res.code == 0, res.err
    assert schedules() == {"cleanup": "ENABLED"} and rules() == {"report": "ENABLED"}
    assert setup.read_text() == flow.replace("{name: cleanup, ", "{name: cleanup, backend: scheduler, ")
    assert cli("-c", str(setup), "diff", "--exit-code").code == 0


def test_a_layout_the_edit_cannot_handle_is_left_alone_with_a_hint(
        setup: Path, cli: Callable[..., Result], migrate: Callable[..., Result]) -> None:
    # The name is a multi-line scalar: no one-line `name:` to put `backend:` after.
    text = CONFIG.replace("  - name: cleanup\n", "  - name: >-\n      cleanup\n")
    setup.write_text(text)
    res = migrate(FakeClock(QUIET), "-c", str(setup), "--rule", "cleanup")
    assert res.code == 0, res.err
    assert "add `backend: scheduler` to cleanup in" in res.err
    assert setup.read_text() == text
    assert schedules() == {"cleanup": "ENABLED"}


def test_a_templated_file_is_edited_too(setup: Path, cli: Callable[..., Result],
                                        monkeypatch: pytest.MonkeyPatch, migrate: Callable[..., Result]) -> None:
    monkeypatch.setenv("CLUSTER", "api")
    text = CONFIG.replace("cluster: api", 'cluster: {{ must_env "CLUSTER" }}')
    setup.write_text(text)
    res = migrate(FakeClock(QUIET), "-c", str(setup), "--rule", "report")
    assert res.code == 0, res.err
    assert setup.read_text() == text.replace("  - name: report\n", "  - name: report\n    backend: scheduler\n")


def test_dry_run_writes_nothing_beside_the_config(setup: Path, migrate: Callable[..., Result]) -> None:
    # A read-only checkout must still get its preview: the edit is checked in memory.
    before = {p.name: p.read_bytes() for p in setup.parent.iterdir()}
    res = migrate(FakeClock(QUIET), "-c", str(setup), "--dry-run")
    assert res.code == 0, res.err
    assert "+backend: scheduler" in res.out and "cannot edit" not in res.err
    assert {p.name: p.read_bytes() for p in setup.parent.iterdir()} == before


def test_the_file_is_replaced_atomically_keeping_its_mode(
        setup: Path, monkeypatch: pytest.MonkeyPatch, migrate: Callable[..., Result]) -> None:
    import os

    setup.chmod(0o640)
    replaced: list[str] = []
    real = os.replace

    def replace(src: Any, dst: Any, **kw: Any) -> None:
        replaced.append(str(dst))
        real(src, dst, **kw)

    monkeypatch.setattr(os, "replace", replace)
    clock = FakeClock(QUIET)
    res = migrate(clock, "-c", str(setup))
    assert res.code == 0, res.err
    assert replaced == [str(setup)]
    assert "backend: scheduler" in setup.read_text()
    assert setup.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in setup.parent.iterdir() if p.name.startswith(".")] == []
