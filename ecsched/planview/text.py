"""The plan as text: a headline and a unified diff per rule, in the file's key names. Colour comes from
`ecsched.term` (a terminal, or --color always); piped, it is plain exact text."""

from __future__ import annotations

import difflib
import re
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ecsched.config.secrets import MASK, is_sensitive
from ecsched.export import schedule_to_config
from ecsched.model import Schedule
from ecsched.plan import Change, FieldChange, Live, Plan
from ecsched.planview.when import schedule_line
from ecsched.report import SYMBOL
from ecsched.yamlio import dump as to_yaml

if TYPE_CHECKING:
    from ecsched.term import Term


# Each schedule's YAML, by object: dumping it is most of a big plan's rendering, and `prepare` does it while
# the other rules are still being read. Keyed by identity (the schedule is kept, so the id stays its own):
# two equal schedules may still be written differently (a `timezone:` cron keeps its local form).
_YAML: dict[int, tuple[Schedule, list[str]]] = {}
_YAML_LOCK = threading.Lock()


def _lines(s: Schedule) -> list[str]:
    hit = _YAML.get(id(s))
    if hit is not None and hit[0] is s:
        return hit[1]
    lines = to_yaml(schedule_to_config(s)).splitlines()
    with _YAML_LOCK:
        if len(_YAML) > 20_000:  # a long-lived process (tests, the demo) never grows without bound
            _YAML.clear()
        _YAML[id(s)] = (s, lines)
    return lines


def prepare(lv: Live, s: Schedule | None) -> None:
    """While the read goes on: the YAML of a live rule that differs from the file (what its diff shows)."""
    if lv.schedule is not None and s is not None and lv.schedule != s:
        _lines(lv.schedule)
        _lines(s)


def unified(ch: Change) -> list[str]:
    before = _lines(ch.live) if ch.live else []
    after = _lines(ch.desired) if ch.desired and ch.action != "delete" else []
    return list(difflib.unified_diff(before, after, "live", "file", lineterm="", n=3))


def headline(ch: Change) -> str:
    words = {"create": "create", "update": "update", "delete": "delete", "conflict": "conflict", "noop": "no change"}
    text = f"{SYMBOL[ch.action]} {words[ch.action]} {ch.name}"
    notes = []
    if ch.backend != "rules":
        notes.append(ch.backend)
    if ch.pausing:
        notes.append("PAUSE")
    if ch.resuming:
        notes.append("RESUME")
    if ch.origin == "outside":
        notes.append("DRIFT: changed outside ecsched; apply reverts it")
    elif ch.origin == "both":
        notes.append("DRIFT: changed in the file and outside ecsched")
    if ch.adopt:
        notes.append("adopt")
    if ch.desired and ch.desired.local_expression and ch.action in ("create", "update"):
        notes.append(f"{ch.desired.local_expression} = {ch.desired.expression} UTC")
    if notes:
        text += f"  ({'; '.join(notes)})"
    return text


def reason(ch: Change) -> str:
    """Why: a conflict's reason, or for a delete, the plan's reason or else what makes it ours to delete."""
    if ch.reason or ch.action != "delete":
        return ch.reason
    owner = ch.live.tracking_id if ch.live is not None else ""
    whose = f"trackingId `{owner}`" if owner else "this file's trackingId"
    return f"not in the file, and owned by {whose}: --prune deletes it"


def summary(plan: Plan, dry_run: bool = False) -> str:
    c = plan.counts()
    text = (f"Plan: {c['create']} to create, {c['update']} to update, {c['delete']} to delete, "
            f"{c['conflict']} conflict{'s' if c['conflict'] != 1 else ''}, {c['noop']} unchanged.")
    return text + (" (dry run: nothing was changed)" if dry_run else "")


def text(plan: Plan, *, term: Term | None = None, verbose: bool = False, now: datetime | None = None) -> str:
    def paint(line: str, style: str | None = None) -> str:
        key = style or line[:1]
        return term.paint(line, key) if term is not None and key in ("+", "-", "~", "!", "@") else line

    lines: list[str] = []
    for ch in plan.changes:
        if ch.action == "noop" and not verbose:
            continue
        lines.append(paint(headline(ch), SYMBOL[ch.action]))
        why = reason(ch)
        if why:
            lines.append(f"  {why}")
        when = schedule_line(ch, now)
        if when:
            lines.append(f"  runs: {when}")
        for line in unified(ch):
            if line.startswith(("---", "+++")):
                continue
            lines.append("  " + paint(line))
        lines.append("")
    if not plan.has_changes:
        lines.append("No changes: AWS matches the file.")
    drifted = sum(1 for c in plan.changes if c.drift)
    if drifted:
        lines.append(paint(f"Drift: {drifted} rule{'s were' if drifted != 1 else ' was'} changed outside ecsched "
                           "since the last apply; apply makes AWS match the file again.", "!"))
    lines.append(summary(plan))
    return "\n".join(lines)


def masked(fc: FieldChange) -> FieldChange:
    """An environment value that looks secret, masked: the plan keeps real values, output never does."""
    m = re.search(r"\.environment(?:\.|\[)(.+?)\]?$", fc.path)
    if not m:
        return fc
    key = m.group(1).strip("'\"")

    def mask(v: Any) -> Any:
        return MASK if isinstance(v, str) and is_sensitive(key, v) else v

    return FieldChange(fc.path, mask(fc.before), mask(fc.after))
