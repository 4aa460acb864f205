"""Every EventBridge write ecsched makes, in order, with the State it sends. Observed through botocore's
events on the clients ecsched creates (boto3 is not patched). A test module's fixture:

    @pytest.fixture
    def order(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
        yield from write_order.record(monkeypatch)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ecsched.aws import Aws

WRITES = {"PutRule", "PutTargets", "RemoveTargets", "DeleteRule", "EnableRule", "DisableRule", "TagResource",
          "UntagResource"}


def record(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []
    original = Aws.client

    def recording(self: Aws, service: str, region: str | None = None) -> Any:
        c = original(self, service, region)
        if service == "events" and not getattr(c, "_ordered", False):
            c.meta.events.register("before-parameter-build.events.*",
                                   lambda model, params, **_: seen.append((model.name, params.get("State")))
                                   if model.name in WRITES else None)
            c._ordered = True
        return c

    monkeypatch.setattr(Aws, "client", recording)
    yield seen
