"""The one-way data flow shared by diff, apply and friends:
file -> model, AWS -> model, (model, model) -> plan. Backends and regions are grouped here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ecsched.context import Context
from ecsched.errors import EcschedError
from ecsched.model import Schedule
from ecsched.plan import Live, Plan, make_plan, select


@dataclass
class Planned:
    plan: Plan
    desired: list[Schedule]
    live: dict[str, Live]
    backends: dict[tuple[str, str], Any] = field(default_factory=dict)

    def backend_for(self, backend: str, region: str) -> Any:
        return self.backends[(backend, region)]


def desired_schedules(ctx: Context) -> list[Schedule]:
    cfg = ctx.config()
    aws = ctx.aws(cfg.region)
    return cfg.schedules(aws.account(), aws.region)


def compute(ctx: Context, *, rules: list[str] | None, prune: bool, adopt: bool = False) -> Planned:
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
    aws = ctx.aws()
    parallel = int(ctx.extra("parallel", None) or 8)
    groups: dict[tuple[str, str], list[Schedule]] = defaultdict(list)
    for s in desired:
        groups[(s.backend, s.region)].append(s)
    if not groups:
        groups[("rules", aws.region)] = []
    from ecsched.backends import get_backend

    planned = Planned(plan=Plan(), desired=desired, live={})
    for (backend_name, region), group in groups.items():
        backend = get_backend(backend_name, aws, region, parallel=parallel)
        planned.backends[(backend_name, region)] = backend
        in_scope = {s.name for s in group if s.name in selected}
        live = backend.read(in_scope, {s.target.cluster_arn for s in group}, prune=prune)
        planned.live.update(live)
        sub = make_plan(group, live, selected=selected, prune=prune, adopt=adopt)
        planned.plan.changes += sub.changes
    return planned
