"""Desired (file) vs live (AWS) -> an ordered list of changes. Pure: no I/O, no boto3.

Ownership is decided here and nowhere else:
- a live rule is ours when its `ecschedule:tracking-id` tag equals the file's trackingId;
- a rule in the file that exists live but is not ours, or whose shape we do not manage (several
  targets, a non-ECS target, an event pattern), is a conflict: never overwritten, unless `adopt`
  (single ECS target only);
- prune deletes only rules that are ours and absent from the file.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ecsched.model import Schedule

Action = Literal["create", "update", "delete", "conflict", "noop"]


@dataclass(frozen=True)
class Live:
    """One live schedule, as a backend read it."""

    name: str
    schedule: Schedule | None  # None when its shape is not one we manage
    tracking_id: str | None  # the ownership tag's value, if any
    fingerprint: str | None = None  # what ecsched last applied, if it did
    unmanaged: str | None = None  # why `schedule` is None
    target_ids: tuple[str, ...] = ()
    backend: str = "rules"


@dataclass(frozen=True)
class FieldChange:
    path: str  # in the file's key names, e.g. "containerOverrides[0].command"
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    action: Action
    name: str
    desired: Schedule | None = None
    live: Schedule | None = None
    reason: str = ""  # why a conflict
    fields: tuple[FieldChange, ...] = ()
    # The live rule no longer matches what ecsched last applied: changed outside ecsched.
    drift: bool = False
    # The file no longer matches what ecsched last applied: changed in the file. None: no record to
    # tell (the rule was created by ecschedule, or before ecsched recorded fingerprints).
    edited: bool | None = None
    adopt: bool = False  # take ownership (tag) as part of this change
    remove_target_ids: tuple[str, ...] = ()  # live targets to remove first (target id changed)
    backend: str = "rules"

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
        reverts), "both", or "unknown" (no fingerprint recorded). Creates and deletes come from the file."""
        if self.action in ("create", "delete"):
            return "file"
        if self.action != "update" or self.adopt:
            return "unknown" if self.action == "update" else ""
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
    from ecsched.config.export import schedule_to_config

    a = schedule_to_config(before, mask=False) if before else {}
    b = schedule_to_config(after, mask=False) if after else {}
    out: list[FieldChange] = []
    _diff(a, b, "", out)
    return tuple(out)


def _diff(a: Any, b: Any, path: str, out: list[FieldChange]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            _diff(a.get(k), b.get(k), f"{path}.{k}" if path else str(k), out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(
            isinstance(x, dict) for x in a + b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        if path == "disabled":
            a, b = bool(a), bool(b)
        out.append(FieldChange(path, a, b))


def make_plan(desired: list[Schedule], live: dict[str, Live], *, selected: set[str] | None = None,
              prune: bool = False, adopt: bool = False, owners: set[str] | None = None) -> Plan:
    """`selected`: the rule names in scope (None: all). `live`: every live schedule read for this run.
    `owners`: trackingIds that are ours beyond the desired schedules' (the file's own, for pruning)."""
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
        owners = {s.tracking_id for s in desired} | (owners or set())
        for name in sorted(live):
            lv = live[name]
            if name in names or lv.tracking_id not in owners:
                continue  # never touch what is not ours
            plan.changes.append(Change("delete", name, live=lv.schedule, fields=field_changes(lv.schedule, None),
                                       remove_target_ids=lv.target_ids, backend=lv.backend))
    return plan


def _compare(s: Schedule, lv: Live, adopt: bool) -> Change:
    owned = lv.tracking_id == s.tracking_id
    taking = False
    if not owned:
        if lv.tracking_id:
            why = f"it belongs to trackingId `{lv.tracking_id}`, not `{s.tracking_id}`"
        else:
            why = "it exists but was not created by ecsched or ecschedule (no ecschedule:tracking-id tag)"
        if lv.schedule is None and lv.unmanaged != "it has no targets":
            return Change("conflict", s.name, desired=s, reason=f"{why}, and {lv.unmanaged}", backend=s.backend)
        if not adopt or lv.tracking_id:  # never adopt another trackingId's rule
            hint = "; pass --adopt to take it over" if not lv.tracking_id else ""
            return Change("conflict", s.name, desired=s, live=lv.schedule, reason=why + hint,
                          fields=field_changes(lv.schedule, s), backend=s.backend)
        taking = True
    if lv.schedule is None and lv.unmanaged != "it has no targets":
        why = f"ecsched does not manage this rule's shape: {lv.unmanaged}"
        return Change("conflict", s.name, desired=s, reason=why, backend=s.backend)
    if lv.schedule == s and not taking:  # before field_changes: most rules are unchanged, and it is costly
        return Change("noop", s.name, desired=s, live=lv.schedule, backend=s.backend)
    fields = field_changes(lv.schedule, s)
    # No state file: apply tags each rule with the fingerprint of what it applied. Live != that record
    # means someone changed the rule outside ecsched; file != that record means the file changed.
    recorded = lv.fingerprint if owned else None  # another owner's record says nothing about ours
    drift = bool(recorded and lv.schedule and lv.schedule.fingerprint() != recorded)
    edited = None if not recorded else s.fingerprint() != recorded
    remove = tuple(t for t in lv.target_ids if t != s.target.target_id)
    return Change("update", s.name, desired=s, live=lv.schedule, fields=fields, drift=drift, edited=edited,
                  adopt=taking, remove_target_ids=remove, backend=s.backend)
