"""The one-way data flow shared by diff, apply and friends:
file -> model, AWS -> model, (model, model) -> plan. Backends and regions are grouped here.

`compute` reads everything in scope, then plans. `apply` plans each rule as soon as its live state has
been read and writes it at once, so that reads and writes (separate API quotas) overlap; it needs a
backend with `read_iter` and otherwise reads first, then writes.

Reading is paced by the API quota and takes seconds; validating and resolving the config takes CPU. So a
plain YAML/JSON config is first skimmed for its rule names and region, and the read starts in the
background while the config is validated and resolved. Its result is used only if the resolved scope
turns out the same; otherwise it is read again. Nothing is planned from the skim.
"""

from __future__ import annotations

import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecsched.context import Context
from ecsched.errors import EcschedError
from ecsched.model import Schedule
from ecsched.plan import Change, Live, Plan, make_plan, select

if TYPE_CHECKING:
    from ecsched.aws import Aws
    from ecsched.changed import Changes

from ecsched.aws import DEFAULT_PARALLEL


@dataclass
class Planned:
    plan: Plan
    desired: list[Schedule]
    live: dict[str, Live]
    backends: dict[tuple[str, str], Any] = field(default_factory=dict)
    changes_since: Changes | None = None

    def backend_for(self, backend: str, region: str) -> Any:
        return self.backends[(backend, region)]


# The outcome of one change in `apply`: the calls made, or the error in a sentence.
Result = tuple[Change, list[str], str | None]


def _aws(ctx: Context) -> Aws:
    """The run's Aws, paced by --quota/$ECSCHED_QUOTA and sized for --parallel."""
    aws = ctx.aws(ctx.config().region)
    aws.configure(quota=ctx.extra("quota", None), parallel=parallel_of(ctx))
    return aws


def parallel_of(ctx: Context) -> int:
    return max(1, int(ctx.extra("parallel", None) or DEFAULT_PARALLEL))


def desired_schedules(ctx: Context) -> list[Schedule]:
    cfg = ctx.config()
    aws = _aws(ctx)
    return cfg.schedules(aws.account(), aws.region)


@dataclass
class _Scope:
    """What one run reads and plans, per (backend, region)."""

    desired: list[Schedule]
    selected: set[str]
    groups: dict[tuple[str, str], list[Schedule]]
    # Names to read beyond the selected ones: rules deleted since --changed-since REF, when pruning.
    extra: dict[tuple[str, str], set[str]]
    # Read every live rule of the clusters (a full --prune), not only the names in scope.
    full_prune: bool
    changes_since: Changes | None = None
    # Each file's own trackingId and cluster, per region: pruning finds owned rules there even when no
    # rule of that region is left in the file (`rules: []`, or every rule moved elsewhere).
    owners: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    clusters: dict[tuple[str, str], set[str]] = field(default_factory=dict)


def _scope(ctx: Context, rules: list[str] | None, prune: bool) -> _Scope:
    since = ctx.extra("changed_since", None)
    if prune and rules:
        raise EcschedError("--prune cannot be combined with --rule: it would treat every other rule as "
                           "removed from the file (ecschedule's `apply -rule X -prune` deletes them). "
                           "Use --prune with --all.")
    desired = desired_schedules(ctx)
    names = [s.name for s in desired]
    selected = select(names, rules)
    if rules and not selected:
        import difflib

        near = sorted({m for p in rules for m in difflib.get_close_matches(p, names, n=3)})
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise EcschedError(f"no rule in the file matches {', '.join(rules)}{hint}")
    aws = _aws(ctx)
    groups: dict[tuple[str, str], list[Schedule]] = defaultdict(list)
    for s in desired:
        groups[(s.backend, s.region)].append(s)
    extra: dict[tuple[str, str], set[str]] = defaultdict(set)
    changes = None
    if since:
        from ecsched import changed

        changes = changed.since(ctx, since, desired, aws.account(), aws.region)
        selected &= changes.changed
        if prune:
            for old in changes.deleted.values():
                extra[(old.backend, old.region)].add(old.name)
                groups.setdefault((old.backend, old.region), [])
        deleted = f", {len(changes.deleted)} deleted" if changes.deleted else ""
        pruned = "" if prune or not changes.deleted else " (deletions are pruned only with --prune)"
        ctx.info(f"--changed-since {since}: {len(selected)} of {len(desired)} rules changed{deleted}{pruned}")
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    clusters: dict[tuple[str, str], set[str]] = defaultdict(set)
    if prune:
        from ecsched import arns

        for f in ctx.config().files:
            cluster = f.data.get("cluster")
            if not cluster:
                continue
            key = ("rules", str(f.data.get("region") or aws.region))
            owners[key].add(str(f.data.get("trackingId") or str(cluster).rsplit("/", 1)[-1]))
            clusters[key].add(arns.cluster_arn(str(cluster), aws.account(), key[1]))
            groups.setdefault(key, [])
    if not groups:
        groups[("rules", aws.region)] = []
    return _Scope(desired, selected, groups, extra, full_prune=prune and not since, changes_since=changes,
                  owners=owners, clusters=clusters)


def _prepare(ctx: Context, rules: list[str] | None, prune: bool) -> tuple[EarlyRead | None, _Scope]:
    """Start the early read, then load, validate and resolve the config (which may fail: stop the read)."""
    early = EarlyRead.start(ctx, rules, prune)
    try:
        return early, _scope(ctx, rules, prune)
    except BaseException:
        if early is not None:
            early.cancel()
        raise


def compute(ctx: Context, *, rules: list[str] | None, prune: bool, adopt: bool = False) -> Planned:
    """Read the live state of everything in scope, then plan. `--changed-since` narrows the scope."""
    early, scope = _prepare(ctx, rules, prune)
    aws = _aws(ctx)
    parallel = parallel_of(ctx)
    from ecsched.backends import get_backend

    planned = Planned(plan=Plan(), desired=scope.desired, live={}, changes_since=scope.changes_since)
    for (backend_name, region), group in scope.groups.items():
        backend = get_backend(backend_name, aws, region, parallel=parallel)
        planned.backends[(backend_name, region)] = backend
        in_scope = {s.name for s in group if s.name in scope.selected} | scope.extra.get((backend_name, region), set())
        if not in_scope and not scope.full_prune:
            continue  # nothing to read: not even the rule list
        arns = {s.target.cluster_arn for s in group} | scope.clusters.get((backend_name, region), set())
        got = early.take(backend_name, region, in_scope, arns, scope.full_prune) if early else None
        live = {lv.name: lv for lv in got} if got is not None else backend.read(in_scope, arns, prune=scope.full_prune)
        planned.live.update(live)
        sub = make_plan(group, live, selected=scope.selected, prune=prune, adopt=adopt,
                        owners=scope.owners.get((backend_name, region)))
        planned.plan.changes += guard_migrated(aws, backend_name, region, parallel, sub.changes)
    return planned


def guard_migrated(aws: Aws, backend_name: str, region: str, parallel: int, changes: list[Change]) -> list[Change]:
    """A rule to create whose schedule already runs on EventBridge Scheduler (it was migrated, and the file
    predates that) is a conflict: creating it would run the task twice."""
    creates = {c.name: c for c in changes if c.action == "create" and c.desired is not None}
    if backend_name != "rules" or not creates:
        return changes
    from ecsched.backends.scheduler import SchedulerBackend

    scheduler = SchedulerBackend(aws, region, parallel=parallel)
    scheduler.guard_rules = False
    try:
        live = scheduler.read(set(creates), set(), prune=False)
    except Exception:  # no Scheduler permission or endpoint: nothing can have been migrated there
        return changes
    out = []
    for c in changes:
        lv = live.get(c.name) if c.name in creates else None
        if lv is not None and c.desired is not None and lv.tracking_id == c.desired.tracking_id:
            group = lv.schedule.schedule_group if lv.schedule else "its group"
            c = Change("conflict", c.name, desired=c.desired, backend="rules",
                       reason=f"schedule {group}/{c.name} on EventBridge Scheduler already runs this task (it was "
                              "migrated): set `backend: scheduler` for it in the file")
        out.append(c)
    return out


def apply(ctx: Context, *, rules: list[str] | None, prune: bool, adopt: bool = False,
          on_result: Callable[[Result], None] | None = None) -> tuple[Planned, list[Result]]:
    """Plan and carry out the changes, each as soon as its rule's live state is known.

    Returns the plan (in the same order as `compute`'s) and one result per actionable change, in plan
    order. A change that fails is reported in its result and the others go on; the next apply converges.
    `on_result` is called as each change completes (from worker threads, one at a time).
    """
    early, scope = _prepare(ctx, rules, prune)
    aws = _aws(ctx)
    parallel = parallel_of(ctx)
    from ecsched.backends import get_backend

    planned = Planned(plan=Plan(), desired=scope.desired, live={}, changes_since=scope.changes_since)
    results: dict[tuple[str, str], Result] = {}
    report_lock = threading.Lock()
    order = {s.name: i for i, s in enumerate(scope.desired)}

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="ecsched-apply") as writers:
        pending: list[Future[None]] = []

        def submit(backend: Any, ch: Change) -> None:
            if ch.action not in ("create", "update", "delete"):
                return

            def run() -> None:
                result = _apply_one(backend, ch)
                with report_lock:
                    results[(ch.backend, ch.name)] = result
                    if on_result is not None:
                        on_result(result)

            pending.append(writers.submit(run))

        read_error: BaseException | None = None
        try:
            for (backend_name, region), group in scope.groups.items():
                backend = get_backend(backend_name, aws, region, parallel=parallel)
                planned.backends[(backend_name, region)] = backend
                in_scope = ({s.name for s in group if s.name in scope.selected}
                            | scope.extra.get((backend_name, region), set()))
                if not in_scope and not scope.full_prune:
                    continue
                by_name = {s.name: s for s in group}
                owners = {s.tracking_id for s in group} | scope.owners.get((backend_name, region), set())
                live: dict[str, Live] = {}
                arns = {s.target.cluster_arn for s in group} | scope.clusters.get((backend_name, region), set())
                got = early.take(backend_name, region, in_scope, arns, scope.full_prune) if early else None
                for lv in got if got is not None else _read(backend, in_scope, arns, scope.full_prune):
                    live[lv.name] = lv
                    s = by_name.get(lv.name)
                    if s is not None and s.name in scope.selected:
                        submit(backend, make_plan([s], {lv.name: lv}, selected={s.name}, adopt=adopt).changes[0])
                    elif s is None and prune and lv.tracking_id in owners:
                        submit(backend, Change("delete", lv.name, live=lv.schedule, remove_target_ids=lv.target_ids,
                                               backend=lv.backend))
                planned.live.update(live)
                # The same plan as `compute`: what is left to do are the creates (no live rule to wait for).
                sub = make_plan(group, live, selected=scope.selected, prune=prune, adopt=adopt,
                            owners=scope.owners.get((backend_name, region)))
                changes = guard_migrated(aws, backend_name, region, parallel, sub.changes)
                for ch in changes:
                    if ch.action == "create":
                        submit(backend, ch)
                planned.plan.changes += changes
        except Exception as e:  # a read failed part-way: finish and report the writes already sent
            read_error = e
        for f in pending:
            f.result()
    ordered = sorted(results.values(), key=lambda r: (r[0].action == "delete", order.get(r[0].name, 0), r[0].name))
    if read_error is not None:
        raise ApplyInterrupted(ordered, read_error)
    return planned, ordered


class ApplyInterrupted(Exception):
    """Reading the live state failed part-way through an apply; `results` are the writes already made."""

    def __init__(self, results: list[Result], cause: BaseException) -> None:
        super().__init__(str(cause))
        self.results = results
        self.cause = cause


class EarlyRead:
    """The live read, started from a skim of the config before it is validated and resolved.

    Live schedules are queued as the backend yields them (all at once for backends without `read_iter`).
    """

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
    def start(cls, ctx: Context, rules: list[str] | None, prune: bool) -> EarlyRead | None:
        if ctx.extra("changed_since", None) or (prune and rules):
            return None
        skim = _skim(ctx.config_paths)
        if skim is None:
            return None
        top_region, rule_region, names, clusters = skim
        if not names:
            return None
        aws = ctx.aws(top_region)  # as Context would create it once the config is loaded
        region = rule_region or aws.region  # a rule's or file's region wins over --region, as in build
        selected = select(names, rules)
        if not selected:
            return None
        from ecsched.backends import get_backend

        aws.configure(quota=ctx.extra("quota", None), parallel=parallel_of(ctx))
        backend = get_backend("rules", aws, region, parallel=parallel_of(ctx))
        early = cls(aws, backend, region, selected, clusters, prune)
        early._thread.start()
        return early

    def _run(self) -> None:
        try:
            from ecsched import arns

            if self.full_prune:  # only pruning needs the account (cluster ARNs) before reading
                account = self.aws.account()
                self.arns = {arns.cluster_arn(c, account, self.region) for c in self.cluster_names}
            self._ready.set()
            for lv in _read(self.backend, self.names, self.arns, self.full_prune):
                self._queue.put(lv)
        except BaseException as e:  # raised again to whoever takes the result
            self._error = e
        finally:
            self._ready.set()
            self._queue.put(self._DONE)

    def take(self, backend: str, region: str, names: set[str], cluster_arns: set[str],
             full_prune: bool) -> Iterator[Live] | None:
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

    def _drain(self, names: set[str] | None) -> Iterator[Live]:
        while (item := self._queue.get()) is not self._DONE:
            if names is None or item.name in names:
                yield item
        if self._error is not None:
            raise self._error

    def cancel(self) -> None:
        """The run failed before it needed the read: stop sending its calls."""
        self.aws.pacer.cancelled = True
        self._thread.join(timeout=30)


def _skim(paths: list[str]) -> tuple[str | None, str | None, list[str], set[str]] | None:
    """(the first top-level region, the rules' region, rule names, cluster names) of one region's plain
    YAML/JSON rules, or None when the config needs the real loader (Jsonnet, templates, another backend,
    several regions) or fails to read."""
    import glob
    import json

    top_region: str | None = None
    region: str | None = None
    names: list[str] = []
    clusters: set[str] = set()
    try:
        files = [m for p in paths for m in (sorted(glob.glob(p)) if glob.has_magic(p) else [p])]
        for path in files:
            if path.lower().endswith(".jsonnet"):
                return None
            with open(path, encoding="utf-8-sig") as f:
                text = f.read()
            if "{{" in text:
                return None
            if path.lower().endswith(".json"):
                top = json.loads(text)
            else:
                import yaml

                top = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            if not isinstance(top, dict) or not isinstance(top.get("rules"), list):
                return None
            top_region = top_region or top.get("region")
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
    return top_region, region, names, clusters


def _read(backend: Any, names: set[str], cluster_arns: set[str], full_prune: bool) -> Iterator[Live]:
    """Live schedules as each is read (`read_iter`), or all at once for backends without it."""
    read_iter = getattr(backend, "read_iter", None)
    if read_iter is not None:
        yield from read_iter(names, cluster_arns, prune=full_prune)
    else:
        yield from backend.read(names, cluster_arns, prune=full_prune).values()


def _apply_one(backend: Any, ch: Change) -> Result:
    try:
        return ch, backend.apply(ch), None
    except Exception as e:  # reported per rule; the next apply converges
        from ecsched.errors import describe_aws_exception

        return ch, [], describe_aws_exception(e) or str(e)
