"""What one run reads and plans: the desired schedules, the names selected, and per (backend, region)
the rules to read (with `--changed-since` and `--prune` widening or narrowing it)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecsched.errors import EcschedError
from ecsched.model import Schedule
from ecsched.plan import select
from ecsched.sync.options import Sink, Source, SyncOptions

if TYPE_CHECKING:
    from ecsched.aws import Aws
    from ecsched.changed import Changes

Group = tuple[str, str]  # (backend, region)


@dataclass
class Scope:
    desired: list[Schedule]
    selected: set[str]
    groups: dict[Group, list[Schedule]]
    # Names to read beyond the selected ones: rules deleted since --changed-since REF, when pruning.
    extra: dict[Group, set[str]]
    # Read every live rule of the clusters (a full --prune), not only the names in scope.
    full_prune: bool
    changes_since: Changes | None = None
    # Each file's own trackingId and cluster, per region: pruning finds owned rules there even when no
    # rule of that region is left in the file (`rules: []`, or every rule moved elsewhere).
    owners: dict[Group, set[str]] = field(default_factory=dict)
    clusters: dict[Group, set[str]] = field(default_factory=dict)

    def names_to_read(self, key: Group) -> set[str]:
        return {s.name for s in self.groups[key] if s.name in self.selected} | self.extra.get(key, set())

    def cluster_arns(self, key: Group) -> set[str]:
        return {s.target.cluster_arn for s in self.groups[key]} | self.clusters.get(key, set())


def prune_named_supported() -> bool:
    """Whether the plan takes `prune_named` (`--prune --rule X`: delete only the undeclared rules named)."""
    import inspect

    from ecsched.plan import make_plan

    return "prune_named" in inspect.signature(make_plan).parameters


def plan_options(opts: SyncOptions) -> dict[str, Any]:
    """Extra arguments for make_plan: the rules `--prune --rule` names, where the plan supports it."""
    return {"prune_named": list(opts.rules)} if opts.prune and opts.rules and prune_named_supported() else {}


def check_patterns(opts: SyncOptions, names: list[str], live: list[str] | None = None) -> set[str]:
    """The names `--rule` selects; a pattern that matches nothing is an error that names it. With --prune a
    pattern may name a rule that only AWS has (`live`: checked once that is read)."""
    if opts.prune and opts.rules and not prune_named_supported():
        raise EcschedError("--prune cannot be combined with --rule: it would treat every other rule as "
                           "removed from the file (ecschedule's `apply -rule X -prune` deletes them). "
                           "Use --prune with --all.")
    selected = select(names, opts.patterns)
    known = names + (live or [])
    unmatched = [p for p in opts.rules if not select(known, [p])]
    if opts.prune and live is None:
        unmatched = []  # it may name a rule to delete: checked after the read
    if unmatched:
        import difflib

        near = sorted({m for p in unmatched for m in difflib.get_close_matches(p, names, n=3)})
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        which = ", ".join(f"`{p}`" for p in unmatched)
        where = "in the file or in AWS" if live is not None else "in the file"
        raise EcschedError(f"--rule {which} matches no rule {where}{hint}")
    return selected


def file_owner(data: dict[str, Any]) -> str:
    """A file's own tracking id, as its rules get it (ecschedule's: trackingId, else the cluster as written)."""
    from ecsched.ownership import tracking_id_of

    return tracking_id_of(data)


def make_scope(source: Source, opts: SyncOptions, aws: Aws, sink: Sink) -> Scope:
    cfg = source.config()
    desired = cfg.schedules(aws.account(), aws.region)
    selected = check_patterns(opts, [s.name for s in desired])
    groups: dict[Group, list[Schedule]] = defaultdict(list)
    for s in desired:
        groups[(s.backend, s.region)].append(s)
    extra: dict[Group, set[str]] = defaultdict(set)
    changes = None
    since = opts.changed_since
    if since:
        from ecsched import changed

        changes = changed.since(source, sink, since, desired, aws.account(), aws.region)
        selected &= changes.changed
        if opts.prune:
            for old in changes.deleted.values():
                extra[(old.backend, old.region)].add(old.name)
                groups.setdefault((old.backend, old.region), [])
        deleted = f", {len(changes.deleted)} deleted" if changes.deleted else ""
        pruned = "" if opts.prune or not changes.deleted else " (deletions are pruned only with --prune)"
        sink.info(f"--changed-since {since}: {len(selected)} of {len(desired)} rules changed{deleted}{pruned}")
    owners: dict[Group, set[str]] = defaultdict(set)
    clusters: dict[Group, set[str]] = defaultdict(set)
    if opts.prune:
        from ecsched import arns

        for f in cfg.files:
            cluster = f.data.get("cluster")
            if not cluster:
                continue
            key = ("rules", str(f.data.get("region") or aws.region))
            owners[key].add(file_owner(f.data))
            clusters[key].add(arns.cluster_arn(str(cluster), aws.account(), key[1]))
            groups.setdefault(key, [])
    if not groups:
        groups[("rules", aws.region)] = []
    return Scope(desired, selected, groups, extra, full_prune=opts.prune and not since, changes_since=changes,
                 owners=owners, clusters=clusters)
