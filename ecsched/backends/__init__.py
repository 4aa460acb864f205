"""Backends read live schedules into the model and apply plan changes. Each provides:

    read(names, cluster_arns, *, prune) -> dict[str, plan.Live]
    apply(change) -> list[str]            # the calls made
    set_state(name, enabled) -> None      # `disable/enable --now`
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ecsched.aws import DEFAULT_PARALLEL, Aws


class Backend:
    """What every backend shares: its service's client in its region, paging, and concurrent reads."""

    name = ""
    service = ""

    def __init__(self, aws: Aws, region: str, parallel: int = DEFAULT_PARALLEL) -> None:
        self.aws = aws
        self.region = region
        self.parallel = max(1, parallel)

    @property
    def client(self) -> Any:
        return self.aws.client(self.service, self.region)

    def _pages(self, op: str, key: str, page_size: int | None = None, **kw: Any) -> list[Any]:
        out: list[Any] = []
        config = {"PageSize": page_size} if page_size else {}
        for page in self.client.get_paginator(op).paginate(**kw, PaginationConfig=config):
            out += page.get(key, [])
        return out

    def _map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        items = list(items)
        if len(items) <= 1 or self.parallel == 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            return list(pool.map(fn, items))


def get_backend(name: str, aws: Aws, region: str, parallel: int = DEFAULT_PARALLEL) -> Any:
    if name == "scheduler":
        from ecsched.backends.scheduler import SchedulerBackend

        return SchedulerBackend(aws, region, parallel=parallel)
    from ecsched.backends.rules import RulesBackend

    return RulesBackend(aws, region, parallel=parallel)
