"""Per-rule planning: what the file says before and after the move, and the steps left, from live state.

Each step is detected from live state, so a rerun resumes wherever an interruption left off."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ecsched import expressions
from ecsched.errors import ConfigError, EcschedError
from ecsched.model import Schedule

if TYPE_CHECKING:
    from ecsched.arns import Account
    from ecsched.config import Config
    from ecsched.config.loader import ConfigFile
    from ecsched.plan import Live


@dataclass
class Item:
    name: str
    path: str
    index: int
    file_backend: str
    schedule: Schedule  # what the file will say after the move
    rule: Schedule | None  # what the file says now, as a rule (None when it cannot be one)
    live_rule: Live | None = None
    live_schedule: Live | None = None
    steps: list[str] = field(default_factory=list)
    error: str | None = None
    moved: bool = False  # the schedule runs it now (switched, or done before)

    @property
    def where(self) -> str:
        return f"{self.schedule.schedule_group}/{self.name}"


def _forced(f: ConfigFile, i: int, backend: str) -> ConfigFile:
    """The file as if rule i said `backend:`: both forms come from build.py, so they match apply's."""
    from ecsched.config.loader import ConfigFile

    rules = list(f.data["rules"])
    rules[i] = {**rules[i], "backend": backend}
    return ConfigFile(path=f.path, data={**f.data, "rules": rules}, locations=f.locations)


def collect(cfg: Config, account: Account, region: str, patterns: list[str] | None) -> list[Item]:
    """The rules of the file to move (all, or those matching `patterns`), in file order."""
    from ecsched.config.build import build_rule
    from ecsched.plan import select

    names = cfg.rule_names()
    chosen = select(names, patterns)
    if patterns and not chosen:
        near = sorted({m for p in patterns for m in difflib.get_close_matches(p, names, n=3)})
        raise EcschedError(f"no rule in the file matches {', '.join(patterns)}"
                           + (f"; did you mean {', '.join(near)}?" if near else ""))
    items = []
    for f in cfg.files:
        for i, r in enumerate(f.data.get("rules") or []):
            if str(r["name"]) not in chosen:
                continue
            schedule = build_rule(_forced(f, i, "scheduler"), i, account, region)
            try:
                rule: Schedule | None = build_rule(_forced(f, i, "rules"), i, account, region)
            except (ConfigError, expressions.ExpressionError):
                rule = None  # e.g. a DST zone, written after the file already moved to scheduler
            backend = str(r.get("backend") or f.data.get("backend") or "rules")
            items.append(Item(str(r["name"]), f.path, i, backend, schedule, rule))
    return items


def decide(it: Item) -> None:
    """The steps left for this rule, from live state. Sets `error` when it cannot move safely."""
    rule, sch, want = it.live_rule, it.live_schedule, it.schedule
    tid = want.tracking_id
    if sch is not None and sch.tracking_id != tid:
        it.error = f"a schedule named {it.name} exists in a schedule group of trackingId `{sch.tracking_id}`"
        return
    if sch is not None and sch.schedule is None:
        it.error = f"schedule {it.name} exists, but ecsched does not manage its shape: {sch.unmanaged}"
        return
    if rule is None:
        if sch is None:
            it.error = (f"neither a rule nor a schedule named {it.name} is live: nothing to move. Run `ecsched "
                        "apply` first (with `backend: scheduler` in the file, apply creates the schedule directly)")
        else:
            it.moved = True  # done before
        return
    if rule.tracking_id != tid:
        who = f"trackingId `{rule.tracking_id}`" if rule.tracking_id else "no ecschedule:tracking-id tag"
        it.error = f"rule {it.name} is not ecsched's ({who}, not `{tid}`): migrate moves only rules it owns"
        return
    if rule.schedule is None:
        it.error = f"ecsched does not manage this rule's shape: {rule.unmanaged}"
        return
    rule_on = rule.schedule.enabled
    sch_on = bool(sch and sch.schedule and sch.schedule.enabled)
    if rule_on and sch_on:
        it.steps = ["disable-rule", "delete"]  # both run now: stop the rule at once
    elif not rule_on and sch_on:
        it.steps = ["delete"]  # switched already
    elif not rule_on and sch is not None:
        # Rule off, schedule off: a switch was interrupted (the file wants it on), or the rule is paused.
        it.steps = ["enable", "delete"] if want.enabled else ["delete"]
    else:
        if it.rule is not None and rule.schedule != it.rule:
            from ecsched.plan import field_changes

            paths = sorted({fc.path.split(".")[0].split("[")[0] for fc in field_changes(rule.schedule, it.rule)})
            it.error = (f"the live rule differs from the file ({', '.join(paths) or 'its definition'}): run "
                        f"`ecsched apply --rule {it.name}` first, so that the move keeps exactly what the file says")
            return
        first = [] if sch is not None else ["create"]
        it.steps = [*first, "switch", "delete"] if rule_on else [*first, "delete"]
    it.moved = it.steps[:1] == ["delete"]
