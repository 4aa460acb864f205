"""The plan as JSON (`--format json`): each change with its field-level changes, masked."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ecsched.config.secrets import mask_config
from ecsched.plan import Plan
from ecsched.planview.text import masked, reason
from ecsched.planview.when import describe, next_times, zone_of


def as_json(plan: Plan, now: datetime | None = None, extra: dict[str, Any] | None = None) -> str:
    changes = []
    for ch in plan.changes:
        item: dict[str, Any] = {
            "rule": ch.name, "action": ch.action, "backend": ch.backend,
            "drift": ch.drift, "origin": ch.origin, "pausing": ch.pausing, "resuming": ch.resuming,
            # The plan keeps real values (a secret-to-secret change is still a change); output never does.
            "fields": [{"path": f.path, "before": mask_config(f.before), "after": mask_config(f.after)}
                       for f in map(masked, ch.fields)],
        }
        why = reason(ch)
        if why:
            item["reason"] = why
        if ch.desired and ch.action in ("create", "update"):
            item["schedule"] = {"expression": ch.desired.expression, "description": describe(ch.desired),
                                "timezone": zone_of(ch.desired), "enabled": ch.desired.enabled,
                                "next": next_times(ch.desired, 3, now)}
        changes.append(item)
    doc = {"changes": changes, "summary": plan.counts(), "has_changes": plan.has_changes,
           "drift": sum(1 for c in plan.changes if c.drift)}
    doc.update(extra or {})
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str)
