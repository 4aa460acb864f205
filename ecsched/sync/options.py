"""What the engine is given: typed options, where the config and AWS come from, and where notes go.

Nothing here knows argparse or the CLI; `ecsched.context.Context.source()` builds a `Source`, and the
Context itself is a `Sink`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ecsched.aws import DEFAULT_PARALLEL

if TYPE_CHECKING:
    from ecsched.aws import Aws
    from ecsched.config import Config


@dataclass(frozen=True)
class SyncOptions:
    """One diff or apply: which rules, whether to prune or adopt, and how hard to drive AWS."""

    rules: tuple[str, ...] = ()  # globs; empty: every rule in the file
    prune: bool = False
    adopt: bool = False
    changed_since: str | None = None  # a git REF
    parallel: int = DEFAULT_PARALLEL
    quota: float | str | None = None  # requests/s per API action; None: $ECSCHED_QUOTA or 50

    @property
    def patterns(self) -> list[str] | None:
        return list(self.rules) or None


@dataclass(frozen=True)
class Source:
    """Where the run's config and AWS come from. Lazy on purpose: the early read starts from `paths`
    before the config is loaded and validated."""

    paths: list[str]
    config: Callable[[], Config]  # the loaded, validated config (the same object on every call)
    load: Callable[[list[str]], Config]  # other copies of the files (the config at a git REF), unvalidated
    aws: Callable[[str | None], Aws]  # the run's one AWS handle; the argument is the region to start with


class Sink(Protocol):
    """Notes for people (stderr): the engine's only output besides what it returns."""

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...
