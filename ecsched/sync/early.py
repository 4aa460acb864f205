"""The early read: the live read, started from a skim of the config before it is validated and resolved.

Reading is paced by the API quota and takes seconds; validating and resolving the config takes CPU. So a
plain YAML/JSON config is first skimmed for its rule names and region, and the read starts in the
background. Its result is used only if the resolved scope turns out the same; otherwise it is read
again. Nothing is planned from the skim.
"""

from __future__ import annotations

import os
import queue
import stat
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ecsched.plan import Live, select
from ecsched.sync.options import Source, SyncOptions
from ecsched.sync.read import Unread, read_live

if TYPE_CHECKING:
    from ecsched.aws import Aws

SKIM_MAX_BYTES = 4 * 1024 * 1024  # bigger configs are not worth skimming twice


class EarlyRead:
    """Live schedules are queued as the backend yields them (all at once for backends without `read_iter`)."""

    _DONE = object()

    def __init__(self, aws: Aws, backend: Any, region: str, names: set[str], cluster_names: set[str],
                 full_prune: bool) -> None:
        self.aws = aws
        self.backend = backend
        self.region = region
        self.names = names
        self.cluster_names = cluster_names
        self.full_prune = full_prune
        self.arns: set[str] = set()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._ready = threading.Event()  # the cluster ARNs are known (or the read failed)
        self._thread = threading.Thread(target=self._run, name="ecsched-early-read", daemon=True)

    @classmethod
    def start(cls, source: Source, opts: SyncOptions, *, unless_locked: bool = False) -> EarlyRead | None:
        """The read, started; None when it cannot start early. `unless_locked`: not for a config that
        names a lockTable, whose apply must read only once it holds the lease."""
        if opts.changed_since or (opts.prune and opts.rules):
            return None
        skim = skim_config(source.paths)
        if skim is None:
            return None
        top_region, rule_region, names, clusters, locked = skim
        if not names or (unless_locked and locked):
            return None
        aws = source.aws(top_region)  # as the run would create it once the config is loaded
        region = rule_region or aws.region  # a rule's or file's region wins over --region, as in build
        selected = select(names, opts.patterns)
        if not selected:
            return None
        from ecsched.backends import get_backend

        aws.configure(quota=opts.quota, parallel=opts.parallel)
        backend = get_backend("rules", aws, region, parallel=opts.parallel)
        early = cls(aws, backend, region, selected, clusters, opts.prune)
        early._thread.start()
        return early

    def _run(self) -> None:
        try:
            from ecsched import arns

            if self.full_prune:  # only pruning needs the account (cluster ARNs) before reading
                account = self.aws.account()
                self.arns = {arns.cluster_arn(c, account, self.region) for c in self.cluster_names}
            self._ready.set()
            for lv in read_live(self.backend, self.names, self.arns, self.full_prune):
                self._queue.put(lv)
        except BaseException as e:  # raised again to whoever takes the result
            self._error = e
        finally:
            self._ready.set()
            self._queue.put(self._DONE)

    def take(self, backend: str, region: str, names: set[str], cluster_arns: set[str],
             full_prune: bool) -> Iterator[Live | Unread] | None:
        """The live schedules as they arrive, if the early read covers what the resolved config asks for;
        None: read now (the early read is waited for and dropped)."""
        self._ready.wait()
        same = (backend, region, full_prune) == ("rules", self.region, self.full_prune) and names <= self.names
        if self._error is None and same and (not full_prune or cluster_arns == self.arns):
            return self._drain(None if full_prune else names)
        self._thread.join()
        if self._error is not None and same:
            raise self._error
        return None

    def _drain(self, names: set[str] | None) -> Iterator[Live | Unread]:
        while (item := self._queue.get()) is not self._DONE:
            if names is None or item.name is None or item.name in names:
                yield item
        if self._error is not None:
            raise self._error

    def cancel(self) -> None:
        """The run failed before it needed the read: stop sending its calls."""
        self.aws.pacer.cancelled = True
        self._thread.join(timeout=30)


def _yaml(text: str) -> Any:
    """The one YAML reader (YAML 1.2, alias and depth limits), so the skim types scalars as the load does."""
    from ecsched import yamlio

    return yamlio.load(text)


def skim_config(paths: list[str]) -> tuple[str | None, str | None, list[str], set[str], bool] | None:
    """(the first top-level region, the rules' region, rule names, cluster names, whether a lockTable is
    named) of one region's plain
    YAML/JSON rules, or None when the config needs the real loader (Jsonnet, templates, another backend,
    several regions) or fails to read."""
    import glob
    import json

    top_region: str | None = None
    region: str | None = None
    names: list[str] = []
    clusters: set[str] = set()
    locked = False
    try:
        files = [m for p in paths for m in (sorted(glob.glob(p)) if glob.has_magic(p) else [p])]
        for path in files:
            st = os.stat(path)  # a FIFO, a device or a huge file: left to the real loader's checks
            if path.lower().endswith(".jsonnet") or not stat.S_ISREG(st.st_mode) or st.st_size > SKIM_MAX_BYTES:
                return None
            with open(path, encoding="utf-8-sig") as f:
                text = f.read()
            if "{{" in text:
                return None
            top = json.loads(text) if path.lower().endswith(".json") else _yaml(text)
            if not isinstance(top, dict) or not isinstance(top.get("rules"), list):
                return None
            top_region = top_region or top.get("region")
            locked = locked or bool(top.get("lockTable"))
            for r in top["rules"]:
                if not isinstance(r, dict) or not isinstance(r.get("name"), str):
                    return None
                if (r.get("backend") or top.get("backend") or "rules") != "rules":
                    return None
                rule_region = r.get("region") or top.get("region")
                if names and rule_region != region:
                    return None
                region = rule_region
                names.append(r["name"])
                cluster = r.get("cluster") or top.get("cluster")
                if not isinstance(cluster, str):
                    return None
                clusters.add(cluster)
    except Exception:  # the real loader reports it
        return None
    return top_region, region, names, clusters, locked
