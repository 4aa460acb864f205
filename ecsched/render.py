"""Views of a plan: text (a coloured unified diff per rule, in the file's key names), json, markdown."""

from __future__ import annotations

import difflib
import json
import re
from datetime import UTC, datetime
from typing import Any

from ecsched.config.export import schedule_to_config, to_yaml
from ecsched.config.secrets import MASK, is_sensitive
from ecsched.plan import Change, FieldChange, Plan

SYMBOL = {"create": "+", "update": "~", "delete": "-", "conflict": "!", "noop": "="}
_COLORS = {"+": "\033[32m", "-": "\033[31m", "~": "\033[33m", "!": "\033[1;31m", "@": "\033[36m"}
_RESET = "\033[0m"
GITHUB_LIMIT = 65536
MARKER = "<!-- ecsched:plan -->"


def _paint(line: str, color: bool, key: str | None = None) -> str:
    if not color:
        return line
    c = _COLORS.get(key or line[:1])
    return f"{c}{line}{_RESET}" if c else line


def unified(ch: Change) -> list[str]:
    before = to_yaml(schedule_to_config(ch.live)).splitlines() if ch.live else []
    after = to_yaml(schedule_to_config(ch.desired)).splitlines() if ch.desired and ch.action != "delete" else []
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
    if ch.drift:
        notes.append("drift: changed outside ecsched")
    if ch.adopt:
        notes.append("adopt")
    if ch.desired and ch.desired.local_expression and ch.action in ("create", "update"):
        notes.append(f"{ch.desired.local_expression} = {ch.desired.expression} UTC")
    if notes:
        text += f"  ({'; '.join(notes)})"
    return text


def summary(plan: Plan, dry_run: bool = False) -> str:
    c = plan.counts()
    text = (f"Plan: {c['create']} to create, {c['update']} to update, {c['delete']} to delete, "
            f"{c['conflict']} conflict{'s' if c['conflict'] != 1 else ''}, {c['noop']} unchanged.")
    return text + (" (dry run: nothing was changed)" if dry_run else "")


def text(plan: Plan, *, color: bool = False, verbose: bool = False) -> str:
    lines: list[str] = []
    for ch in plan.changes:
        if ch.action == "noop" and not verbose:
            continue
        lines.append(_paint(headline(ch), color, SYMBOL[ch.action]))
        if ch.action == "conflict":
            lines.append(f"  {ch.reason}")
        for line in unified(ch):
            if line.startswith(("---", "+++")):
                continue
            lines.append("  " + _paint(line, color))
        lines.append("")
    if not plan.has_changes:
        lines.append("No changes: AWS matches the file.")
    lines.append(summary(plan))
    return "\n".join(lines)


def _masked(fc: FieldChange) -> FieldChange:
    m = re.search(r"\.environment\.(.+)$", fc.path)
    if not m:
        return fc
    key = m.group(1)

    def mask(v: Any) -> Any:
        return MASK if isinstance(v, str) and is_sensitive(key, v) else v

    return FieldChange(fc.path, mask(fc.before), mask(fc.after))


def _next_times(ch: Change, n: int = 3) -> list[str]:
    from ecsched import expressions

    s = ch.desired
    if s is None:
        return []
    try:
        expr = expressions.parse(s.expression, allow_at=s.backend == "scheduler")
        tz = s.timezone or "UTC"
        times = expr.next_fire_times(n, after=datetime.now(UTC), tz=tz)
    except Exception:
        return []
    out = []
    for t in times:
        local = t.strftime("%Y-%m-%d %H:%M")
        if tz != "UTC":
            local += f" {tz} ({t.astimezone(UTC).strftime('%Y-%m-%d %H:%M')} UTC)"
        else:
            local += " UTC"
        out.append(local)
    return out


def _describe(ch: Change) -> str:
    from ecsched import expressions

    s = ch.desired
    if s is None:
        return ""
    try:
        return expressions.parse(s.expression, allow_at=s.backend == "scheduler").describe(tz=s.timezone or "UTC")
    except Exception:
        return s.expression


def as_json(plan: Plan) -> str:
    changes = []
    for ch in plan.changes:
        item: dict[str, Any] = {
            "rule": ch.name, "action": ch.action, "backend": ch.backend,
            "drift": ch.drift, "pausing": ch.pausing, "resuming": ch.resuming,
            "fields": [{"path": f.path, "before": f.before, "after": f.after} for f in map(_masked, ch.fields)],
        }
        if ch.reason:
            item["reason"] = ch.reason
        if ch.desired and ch.action in ("create", "update"):
            item["schedule"] = {"expression": ch.desired.expression, "description": _describe(ch),
                                "next": _next_times(ch)}
        changes.append(item)
    return json.dumps({"changes": changes, "summary": plan.counts(), "has_changes": plan.has_changes},
                      indent=2, ensure_ascii=False, default=str)


def markdown(plan: Plan, *, limit: int = GITHUB_LIMIT, title: str = "ecsched plan") -> str:
    """The PR comment: a summary table, then each rule's diff in a collapsible block. Stays under
    GitHub's comment limit; beyond it, says how many rules were left out."""
    shown = [c for c in plan.changes if c.action != "noop"]
    head = [MARKER, f"### {title}", "", summary(plan), ""]
    if any(c.drift for c in shown):
        head += ["> [!WARNING]", "> Some rules were changed outside ecsched (drift): applying the file will "
                 "overwrite those changes.", ""]
    if not shown:
        return "\n".join([*head, "No changes: AWS matches the file."]) + "\n"
    table = ["| rule | action | what changes |", "|---|---|---|"]
    blocks: list[str] = []
    for ch in shown:
        what = ", ".join(sorted({f.path.split("[")[0].split(".")[0] for f in ch.fields})) or ch.reason
        action: str = ch.action
        if ch.pausing:
            action = "**⏸ pause**"
        elif ch.resuming:
            action = "**▶ resume**"
        if ch.drift:
            action += " (drift)"
        table.append(f"| `{ch.name}` | {action} | {_md_cell(what)} |")
        lines = [f"<details><summary>{SYMBOL[ch.action]} <code>{ch.name}</code>: {ch.action}</summary>", ""]
        desc = _describe(ch)
        nxt = _next_times(ch)
        if desc and ch.action in ("create", "update"):
            lines.append(f"{desc}; next {', '.join(nxt[:3])}" if nxt else desc)
            lines.append("")
        if ch.reason:
            lines += [ch.reason, ""]
        diff = unified(ch)
        if diff:
            lines += ["```diff", *[d for d in diff if not d.startswith(("---", "+++"))], "```"]
        lines += ["", "</details>", ""]
        blocks.append("\n".join(lines))
    body = "\n".join(head + table) + "\n\n"
    omitted = 0
    for i, block in enumerate(blocks):
        tail = f"\n_{len(blocks) - i} more rules left out: the comment would exceed GitHub's limit._\n"
        if len(body) + len(block) + len(tail) > limit:
            omitted = len(blocks) - i
            break
        body += block
    if omitted:
        body += (f"\n_{omitted} more rules left out: the comment would exceed GitHub's limit. "
                 "Run `ecsched diff` for the full plan._\n")
    if len(body) > limit:  # the table alone was too long: cut it, say so
        cut = body[: limit - 200].rsplit("\n", 1)[0]
        body = cut + "\n\n_The plan was truncated to fit GitHub's comment limit._\n"
    return body


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:200]
