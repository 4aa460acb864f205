"""The lock tests' fixtures, loaded with `pytest_plugins = ["lock_helpers.fixtures"]`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lock_helpers.harness import TABLE, Background


@pytest.fixture
def bg(tmp_path: Path) -> Iterator[Callable[..., Background]]:
    started: list[Background] = []

    def start(argv: list[str], **extra: str) -> Background:
        b = Background(argv, tmp_path, **extra)
        started.append(b)
        return b

    yield start
    for b in started:
        b.kill()


@pytest.fixture
def table(aws: str, cli: Callable[..., Any]) -> str:
    res = cli("lock", "--create-table", "--table", TABLE)
    assert res.code == 0, res.err
    return TABLE
