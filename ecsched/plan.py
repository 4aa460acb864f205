"""Desired (file) vs live (AWS) -> an ordered list of changes. Pure: no I/O, no boto3, no config code.

Ownership is decided here (with ecsched.ownership) and nowhere else:
- a live rule is ours when its `ecschedule:tracking-id` tag names the file's trackingId (a cluster name
  and its ARN are one owner);
- an untagged rule that ecschedule before v0.10 could have written from the file (its one target an ECS
  task on the file's cluster) is adopted: one TagResource, plus any real change;
- any other rule of a declared name is a conflict: never overwritten; `adopt` takes untagged rules of a
  shape ecsched manages, never another trackingId's;
- prune deletes only rules that are ours and absent from the file. It finishes rules an interrupted apply
  left without a target, and reports (never deletes) owned rules of shapes ecsched does not manage, unless
  they are named.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from ecsched import fielddiff, ownership
from ecsched.fielddiff import FieldChange
from ecsched.model import Live, Schedule

__all__ = ["Action", "Change", "FieldChange", "Live", "Plan", "field_changes", "make_plan", "prune_change", "select"]

Action = Literal["create", "update", "delete", "conflict", "noop"]


@dataclass(frozen=True)
class Change:
    action: Action
    name: str
    desired: Schedule | None = None
    live: Schedule | None = None
    reason: str = ""  # why a conflict, why a delete, what an unfinished apply left
    fields: tuple[FieldChange, ...] = ()
    # The live rule no longer matches what ecsched last applied: changed outside ecsched.
    drift: bool = False
    # The file no longer matches what ecsched last applied: changed in the file. None: no record to
    # tell (the rule was created by ecschedule, or before ecsched recorded fingerprints).
    edited: bool | None = None
    adopt: bool = False  # take ownership (tag) as part of this change
    remove_target_ids: tuple[str, ...] = ()  # live targets to remove first (target id changed)
    backend: str = "rules"
    # An earlier apply was interrupted: what is live is its unfinished work, not drift.
    unfinished: bool = False
    current: Live | None = None  # the live rule as read, when there is one

    @property
    def state_only(self) -> bool:
        return self.action == "update" and bool(self.fields) and all(f.path == "disabled" for f in self.fields)

    @property
    def pausing(self) -> bool:
        if self.action == "create":
            return self.desired is not None and not self.desired.enabled
        return self.action == "update" and any(f.path == "disabled" and f.after for f in self.fields)

    @property
    def resuming(self) -> bool:
        return self.action == "update" and any(f.path == "disabled" and not f.after for f in self.fields)

    @property
    def origin(self) -> str:
        """Where an update comes from: "file", "outside" (drift: changed outside ecsched, which apply
        reverts), "both", "unfinished" (an interrupted apply), or "unknown" (no fingerprint recorded).
        Creates and deletes come from the file."""
        if self.action in ("create", "delete"):
            return "file"
        if self.action != "update":
            return ""
        if self.unfinished:
            return "unfinished"
        if self.adopt:
            return "unknown"
        if self.drift:
            return "both" if self.edited else "outside"
        return "file" if self.edited else "unknown"


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)

    @property
    def actionable(self) -> list[Change]:
        return [c for c in self.changes if c.action in ("create", "update", "delete")]

    @property
    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.action == "conflict"]

    @property
    def has_changes(self) -> bool:
        return any(c.action != "noop" for c in self.changes)

    def counts(self) -> dict[str, int]:
        out = {a: 0 for a in ("create", "update", "delete", "conflict", "noop")}
        for c in self.changes:
            out[c.action] += 1
        return out


def select(names: Iterable[str], patterns: list[str] | None) -> set[str]:
    """Names matching any glob in `patterns` (all names when there are none)."""
    names = list(names)
    if not patterns:
        return set(names)
    return {n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)}


def field_changes(before: Schedule | None, after: Schedule | None) -> tuple[FieldChange, ...]:
    return tuple(fielddiff.changes(before, after))


def make_plan(desired: list[Schedule], live: dict[str, Live], *, selected: set[str] | None = None,
              prune: bool = False, adopt: bool = False, owners: set[str] | None = None,
              prune_named: list[str] | None = None) -> Plan:
    """`selected`: the rule names in scope (None: all). `live`: every live schedule read for this run.
    `owners`: trackingIds that are ours beyond the desired schedules' (each file's own, for pruning).
    `prune_named`: globs naming the undeclared rules to delete (`--prune --rule`); only those go, and
    they go whatever their shape."""
    plan = Plan()
    names = {s.name for s in desired}
    for s in desired:
        if selected is not None and s.name not in selected:
            continue
        lv = live.get(s.name)
        if lv is None:
            plan.changes.append(Change("create", s.name, desired=s, fields=field_changes(None, s), backend=s.backend))
            continue
        plan.changes.append(_compare(s, lv, adopt))
    if prune:
        declared_owners = {s.tracking_id for s in desired}
        all_owners = declared_owners | (owners or set())
        for name in sorted(live):
            if name in names:
                continue
            ch = prune_change(live[name], all_owners, declared_owners=declared_owners, named=prune_named)
            if ch is not None:
                plan.changes.append(ch)
    return plan


def prune_change(lv: Live, owners: set[str], *, declared_owners: set[str] | None = None,
                 named: list[str] | None = None) -> Change | None:
    """What `--prune` does with a live rule that no file given declares: None when it is not ours (or not
    named). `declared_owners`: the trackingIds that still declare rules (to say why a rule goes)."""
    owner = next((o for o in sorted(owners) if ownership.same_owner(lv.tracking_id, o, lv.region)), None)
    if owner is None:
        return None  # never touch what is not ours
    if named is not None and not select([lv.name], named):
        return None
    remove = lv.target_ids
    if lv.untargeted:
        why = (f"an interrupted apply or delete left it without a target; trackingId `{owner}` owns it and no "
               "file declares it, so the delete is finished")
    elif lv.schedule is None and named is None:
        why = (f"trackingId `{owner}` owns it, but ecsched does not manage its shape ({lv.unmanaged}), so "
               f"--prune leaves it. To delete it, name it: `ecsched apply --prune --rule {lv.name}`")
        return Change("conflict", lv.name, reason=why, backend=lv.backend, current=lv)
    elif declared_owners is not None and not any(ownership.same_owner(owner, o) for o in declared_owners):
        why = (f"trackingId `{owner}` owns it and the files given declare no rule for `{owner}` (`rules:` is "
               f"empty), so --prune deletes every rule of `{owner}`")
    else:
        why = (f"trackingId `{owner}` owns it and no file given declares it. If another file with trackingId "
               f"`{owner}` declares it, pass that file too, or give each file its own trackingId")
    return Change("delete", lv.name, live=lv.schedule, reason=why, fields=field_changes(lv.schedule, None),
                  remove_target_ids=remove, backend=lv.backend, unfinished=lv.untargeted, current=lv)


def _compare(s: Schedule, lv: Live, adopt: bool) -> Change:
    owned = ownership.owns(s, lv)
    taking = False
    if not owned:
        untagged = lv.tracking_id is None
        if untagged and ownership.untagged_mismatch(s, lv) is None:
            taking = True  # written by ecschedule before v0.10, which tagged nothing
        elif untagged and adopt and (lv.schedule is not None or lv.untargeted):
            taking = True
        else:
            return Change("conflict", s.name, desired=s, live=lv.schedule, reason=ownership.not_ours(s, lv, adopt),
                          fields=field_changes(lv.schedule, s) if lv.schedule else (), backend=s.backend,
                          current=lv)
    if lv.schedule is None and not lv.untargeted:
        why = f"ecsched does not manage this rule's shape: {lv.unmanaged}"
        return Change("conflict", s.name, desired=s, reason=why, backend=s.backend, current=lv)
    recorded = lv.fingerprint if owned else None  # another owner's record says nothing about ours
    unfinished = owned and (bool(lv.applying) or lv.untargeted)
    if lv.schedule == s and not taking:  # before field_changes: most rules are unchanged, and it is costly
        if unfinished or (recorded is not None and recorded != s.fingerprint()):
            # The rule is as the file says, but the apply that made it stopped before its record.
            return Change("update", s.name, desired=s, live=lv.schedule, backend=s.backend, unfinished=True,
                          edited=False, reason=UNFINISHED if unfinished else UNRECORDED, current=lv)
        return Change("noop", s.name, desired=s, live=lv.schedule, backend=s.backend, current=lv)
    fields = field_changes(lv.schedule, s)
    # No state file: apply tags each rule with the fingerprint of what it applied. Live != that record
    # means someone changed the rule outside ecsched; file != that record means the file changed.
    drift = not unfinished and bool(recorded and lv.schedule and lv.schedule.fingerprint() != recorded)
    edited = None if not recorded else s.fingerprint() != recorded
    remove = tuple(t for t in lv.target_ids if t != s.target.target_id)
    reason = UNFINISHED if unfinished else ""
    if taking and lv.tracking_id is None and not adopt:
        reason = (f"it has no ecschedule:tracking-id tag (ecschedule before v0.10 wrote none) and its one target is "
                  f"an ECS task on this file's cluster, so it is adopted: tagged ecschedule:tracking-id="
                  f"`{s.tracking_id}`")
    return Change("update", s.name, desired=s, live=lv.schedule, fields=fields, drift=drift, edited=edited,
                  adopt=taking, remove_target_ids=remove, backend=s.backend, unfinished=unfinished, reason=reason,
                  current=lv)


UNFINISHED = "unfinished apply: an earlier apply of this rule was interrupted; this one completes it"
UNRECORDED = ("unfinished apply: the rule matches the file, but not ecsched's record of its last apply (an apply "
              "stopped before its last call); this apply records it, one TagResource")
