"""Reading live schedules rule by rule: one rule that cannot be read must not stop the others.

The backend's `read_iter` streams the rules; when it stops at a failure, the rules not yet read are read
one at a time, and those that still fail come back as `Unread`. A failed listing leaves pruning incomplete:
that is one `Unread` with no name.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from ecsched.aws import Cancelled
from ecsched.errors import describe_aws_exception
from ecsched.plan import Live


@dataclass(frozen=True)
class Unread:
    """A rule whose live state could not be read, so nothing is planned for it this run."""

    name: str | None  # None: the listing (prune candidates) failed
    error: str


def describe(e: BaseException) -> str:
    return describe_aws_exception(e) or str(e) or type(e).__name__


def read_live(backend: Any, names: set[str], cluster_arns: set[str], full_prune: bool,
              owners: set[str] | None = None) -> Iterator[Live | Unread]:
    """Each live schedule as soon as it is read, and an `Unread` for each that could not be. `owners`: the
    trackingIds a full prune is for (None: every tagged rule is read, and the plan decides)."""
    seen: set[str] = set()
    try:
        for lv in backend.read_iter(names, cluster_arns, prune=full_prune, owners=owners):
            seen.add(lv.name)
            yield lv
        return
    except Cancelled:
        raise
    except Exception as e:  # the bulk read stops at its first failure: go on rule by rule
        first = e
    if full_prune:
        yield Unread(None, describe(first))
    yield from _one_by_one(backend, sorted(names - seen))


def _one_by_one(backend: Any, names: list[str]) -> Iterator[Live | Unread]:
    def one(name: str) -> Live | Unread | None:
        try:
            got: Live | None = backend.read({name}, set(), prune=False).get(name)
            return got  # None: no such rule
        except Cancelled:
            raise
        except Exception as e:
            return Unread(name, describe(e))

    if not names:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(len(names), int(getattr(backend, "parallel", 1))))) as pool:
        for done in as_completed([pool.submit(one, n) for n in names]):
            item = done.result()
            if item is not None:
                yield item
