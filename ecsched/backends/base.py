"""What every backend shares, and the typed face that `get_backend` returns.

A backend reads live schedules into the model and carries out plan changes:

    read(names, cluster_arns, *, prune, owners=None) -> dict[str, Live]
    read_iter(...)                                          # the same, each as soon as it is read
    apply(change) -> list[str]                              # the calls made, in order
    set_state(name, enabled, *, fingerprint=None) -> list[str]   # `disable/enable --now`

`owners`: the trackingIds pruning is for; rules of other owners are then not read further (None: read
every tagged rule, and let the plan decide).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ecsched.aws import DEFAULT_PARALLEL, Aws

if TYPE_CHECKING:
    from ecsched.model import Live
    from ecsched.plan import Change


@runtime_checkable
class Backend(Protocol):
    name: str
    aws: Aws
    region: str
    parallel: int

    def read(self, names: set[str], cluster_arns: set[str], *, prune: bool,
             owners: set[str] | None = None) -> dict[str, Live]: ...

    def read_iter(self, names: set[str], cluster_arns: set[str], *, prune: bool,
                  owners: set[str] | None = None) -> Iterator[Live]: ...

    def apply(self, change: Change) -> list[str]: ...

    def set_state(self, name: str, enabled: bool, *, fingerprint: str | None = None) -> list[str]: ...


class BaseBackend:
    """Its service's client in its region, paging, and concurrent reads."""

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

    def read(self, names: set[str], cluster_arns: set[str], *, prune: bool,
             owners: set[str] | None = None) -> dict[str, Live]:
        found = sorted(self.read_iter(names, cluster_arns, prune=prune, owners=owners), key=lambda lv: lv.name)
        return {lv.name: lv for lv in found}

    def read_iter(self, names: set[str], cluster_arns: set[str], *, prune: bool,
                  owners: set[str] | None = None) -> Iterator[Live]:
        raise NotImplementedError
