"""Fixtures of the migrate tests (`pytest_plugins = ["tests.migrate_fixtures"]`): `migrate` runs
`ecsched ... migrate --to scheduler` with a given clock, `ops` records every AWS operation, `setup`
applies the config to the moto server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result, client
from tests.migrate_helpers import CONFIG, EVENTS_AND_SCHEDULER, FakeClock


@pytest.fixture
def migrate(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """`migrate(clock, "-c", path, "--rule", "a")`: `ecsched ... migrate --to scheduler ...` with that clock,
    parsed as the CLI parses it; errors reported as the CLI reports them."""
    monkeypatch.setenv("NO_COLOR", "1")

    def run(clock: FakeClock, *argv: str) -> Result:
        from ecsched.cli import build_parser
        from ecsched.commands import migrate as command
        from ecsched.context import Context
        from ecsched.errors import EcschedError

        capsys.readouterr()
        args = build_parser().parse_args([*argv[:2], "migrate", "--to", "scheduler", *argv[2:]])
        ctx = Context.from_args(args)
        try:
            code = command.run(args, ctx, clock)
        except EcschedError as e:
            ctx.error(str(e))
            code = e.exit_code
        except KeyboardInterrupt:
            code = 130
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


# 2026-01-05 is a Monday. At 12:00 UTC nothing fires for hours: no waiting.


@pytest.fixture
def ops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every AWS operation ecsched makes, in order, by observing botocore's events (boto3 is not patched)."""
    from ecsched.aws import Aws

    seen: list[str] = []
    original = Aws.client

    def recording(self: Aws, service: str, region: str | None = None) -> Any:
        c = original(self, service, region)
        if not getattr(c, "_ecsched_recorded", False):
            c.meta.events.register("before-call.*.*", lambda model, **_: seen.append(model.name))
            c._ecsched_recorded = True
        return c

    monkeypatch.setattr(Aws, "client", recording)
    yield seen


@pytest.fixture
def setup(aws: str, cli: Callable[..., Result], tmp_path: Path) -> Path:
    client("iam").create_role(RoleName="ecsEventsRole", AssumeRolePolicyDocument=json.dumps(EVENTS_AND_SCHEDULER))
    path = tmp_path / "ecsched.yaml"
    path.write_text(CONFIG)
    res = cli("-c", str(path), "apply")
    assert res.code == 0, res.err
    return path
