"""The `history:` resources in the plan's views: a line each in text, a section in markdown, a key in JSON."""

from __future__ import annotations

from typing import Any

from ecsched.insight.sink import HistoryPlan

_ORDER = ("create", "update", "delete", "conflict")


def summary(hp: HistoryPlan | None) -> str:
    """"History: 3 to create." (empty when there is nothing to do)."""
    if hp is None or not hp.has_changes:
        return ""
    counts = {a: sum(1 for _, c in hp.changes if c.action == a) for a in _ORDER}
    words = [f"{n} to {a}" if a != "conflict" else f"{n} conflict{'s' if n != 1 else ''}"
             for a, n in counts.items() if n]
    return f"History: {', '.join(words)}."


def lines(hp: HistoryPlan | None, verbose: bool = False) -> list[str]:
    return hp.lines(verbose) if hp is not None else []


def as_json(hp: HistoryPlan | None) -> dict[str, Any] | None:
    if hp is None:
        return None
    changes = [{"resource": c.resource, "name": c.name, "region": c.region, "action": c.action,
                "fields": [{"path": f, "before": a, "after": b} for f, a, b in c.fields],
                **({"reason": c.message} if c.message else {})} for _, c in hp.changes]
    return {"changes": changes, "has_changes": hp.has_changes,
            "logGroups": sorted({d.log_group for d in hp.desired})}


def markdown(hp: HistoryPlan | None) -> list[str]:
    """A short section for the PR comment: the history resources that change, one diff line each."""
    if hp is None or not hp.has_changes:
        return []
    body = [line.replace("```", "'''") for line in hp.lines()]
    out = ["#### Run history (`history:`)", "", summary(hp), ""]
    if hp.conflicts:
        out += ["> [!CAUTION]", "> **Refused**: " + " ".join(hp.conflicts).replace("\n", " "), ""]
    return [*out, "```diff", *body, "```", ""]
