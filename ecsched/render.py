"""Views of a plan: text (a coloured unified diff per rule, in the file's key names), json, markdown."""

from __future__ import annotations

import difflib
import html
import json
import re
from datetime import UTC, datetime
from typing import Any

from ecsched.config.export import schedule_to_config, to_yaml
from ecsched.config.secrets import MASK, is_sensitive, mask_config
from ecsched.model import Schedule
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
    drifted = sum(1 for c in plan.changes if c.drift)
    if drifted:
        lines.append(_paint(f"Drift: {drifted} rule{'s were' if drifted != 1 else ' was'} changed outside ecsched "
                            "since the last apply; apply makes AWS match the file again.", color, "!"))
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




# --- schedules in words ---------------------------------------------------------------------------


def _expr(s: Schedule) -> Any:
    from ecsched import expressions

    try:
        return expressions.parse(s.expression, allow_at=s.backend == "scheduler")
    except ValueError:
        return None


def describe(s: Schedule) -> str:
    """"At 18:30 UTC every day"; the expression itself if it cannot be described. A `timezone:` cron on
    the rules backend is described as written ("At 03:30 Asia/Tokyo every day")."""
    from ecsched import expressions

    text, tz = s.expression, s.timezone or "UTC"
    if s.local_expression and " " in s.local_expression.rstrip(")"):
        text, tz = s.local_expression.rsplit(" ", 1)
    try:
        return str(expressions.parse(text, allow_at=s.backend == "scheduler").describe(tz=tz))
    except ValueError:
        return s.expression


def next_times(s: Schedule, n: int = 3, now: datetime | None = None) -> list[str]:
    """The next `n` fire times, in the schedule's zone (and UTC beside it when that differs). Empty for
    rate(): it counts from when the rule is created or enabled, not from the clock."""
    from zoneinfo import ZoneInfo

    expr = _expr(s)
    if expr is None or expr.kind == "rate":
        return []
    tz = s.timezone or "UTC"
    shown = s.local_expression.rsplit(" ", 1)[1] if s.local_expression and " " in s.local_expression else tz
    try:
        times = expr.next_fire_times(n, after=now or datetime.now(UTC), tz=tz)
        zone = ZoneInfo(shown)
    except (ValueError, KeyError):
        return []
    out = []
    for t in times:
        utc = t.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        # What runs is the UTC expression: times come from it, shown in the zone the file was written in.
        out.append(f"{t.astimezone(zone).strftime('%Y-%m-%d %H:%M')} {shown} ({utc} UTC)" if shown != "UTC"
                   else f"{utc} UTC")
    return out


def schedule_line(ch: Change, now: datetime | None = None) -> str:
    """One sentence on when a changed schedule fires: "At 18:30 UTC every day; next 2026-12-01 18:30 UTC"."""
    s = ch.desired
    if s is None or ch.action not in ("create", "update"):
        return ""
    text = describe(s)
    if ch.live is not None and ch.live.expression != s.expression:
        text += f" (was: {describe(ch.live)})"
    if not s.enabled:
        return f"{text}; paused: it will not fire until resumed"
    expr = _expr(s)
    if expr is not None and expr.kind == "rate":
        return f"{text}, counted from when the rule is {'created' if ch.action == 'create' else 'enabled'}"
    nxt = next_times(s, 3, now)
    return f"{text}; next {', '.join(nxt)}" if nxt else f"{text}; it will not fire again"


# --- json ----------------------------------------------------------------------------------------


def as_json(plan: Plan, now: datetime | None = None) -> str:
    changes = []
    for ch in plan.changes:
        item: dict[str, Any] = {
            "rule": ch.name, "action": ch.action, "backend": ch.backend,
            "drift": ch.drift, "origin": ch.origin, "pausing": ch.pausing, "resuming": ch.resuming,
            # The plan keeps real values (a secret-to-secret change is still a change); output never does.
            "fields": [{"path": f.path, "before": mask_config(f.before), "after": mask_config(f.after)}
                       for f in map(_masked, ch.fields)],
        }
        if ch.reason:
            item["reason"] = ch.reason
        if ch.desired and ch.action in ("create", "update"):
            item["schedule"] = {"expression": ch.desired.expression, "description": describe(ch.desired),
                                "enabled": ch.desired.enabled, "next": next_times(ch.desired, 3, now)}
        changes.append(item)
    return json.dumps({"changes": changes, "summary": plan.counts(), "has_changes": plan.has_changes,
                       "drift": sum(1 for c in plan.changes if c.drift)},
                      indent=2, ensure_ascii=False, default=str)


# --- markdown: the pull-request comment ---------------------------------------------------------

_PRIORITY = {"conflict": 0, "delete": 2, "update": 3, "create": 4}
# Symbols from the Basic Multilingual Plane only: one character each, however GitHub counts.
_ACTION_MD = {"create": "➕ create", "update": "✎ update", "delete": "✖ delete", "conflict": "⛔ conflict"}


def marker(key: str | None = None) -> str:
    """The hidden line that finds the comment again; `key` tells apart several plans on one PR."""
    if not key:
        return MARKER
    # `--` or `>` would end the HTML comment early.
    safe = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._/:@+=-]", "_", key))[:100]
    return f"<!-- ecsched:plan:{safe} -->"


def _md_action(ch: Change, *, in_html: bool = False) -> str:
    """The action, pauses and drift in bold. `in_html`: for <summary>, where markdown is not rendered."""
    if ch.pausing:
        text = "**⏸ PAUSE**"
    elif ch.resuming:
        text = "**▶ RESUME**"
    else:
        text = _ACTION_MD.get(ch.action, ch.action)
    if ch.origin == "outside":
        text += " ⚠ **drift**"
    elif ch.origin == "both":
        text += " ⚠ + drift"
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text) if in_html else text


def _what(ch: Change) -> str:
    if ch.action == "conflict":
        return ch.reason
    if ch.action == "create":
        return "new rule"
    if ch.action == "delete":
        return "removed from the file"
    keys = list(dict.fromkeys(f.path for f in ch.fields))
    if ch.adopt:
        keys.insert(0, "adopt (take ownership)")
    if ch.origin == "outside":
        return "changed outside ecsched: " + ", ".join(keys) + " (apply reverts it)"
    return ", ".join(keys)


def _fence(lines: list[str]) -> list[str]:
    longest = max((len(m) for line in lines for m in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}diff", *lines, fence]


def _block(ch: Change, now: datetime | None) -> str:
    title = f"{SYMBOL[ch.action]} <code>{html.escape(ch.name)}</code>: {_md_action(ch, in_html=True)}"
    lines = [f"<details><summary>{title}</summary>", ""]
    when = schedule_line(ch, now)
    if ch.pausing:
        lines += [f"**⏸ Paused**: it will not fire until resumed. Schedule: {describe(ch.desired)}"
                  if ch.desired else "**⏸ Paused**", ""]
    elif when:
        lines += [("**▶ Resumes**: " if ch.resuming else "") + when, ""]
    if ch.desired and ch.desired.local_expression and ch.action in ("create", "update"):
        lines += [f"Written as `{ch.desired.local_expression}`; EventBridge rules run in UTC, so it runs as "
                  f"`{ch.desired.expression}`.", ""]
    if ch.origin == "outside":
        lines += ["⚠ **Drift**: this rule was changed outside ecsched (console, CLI) since the last apply; the "
                  "file did not change. Applying reverts it to the file.", ""]
    elif ch.origin == "both":
        lines += ["⚠ **Drift**: changed in the file, and also outside ecsched since the last apply. The diff "
                  "is from AWS as it is now.", ""]
    if ch.reason:
        lines += [html.escape(ch.reason), ""]
    diff = [d for d in unified(ch) if not d.startswith(("---", "+++"))]
    if diff:
        lines += _fence(diff)
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def markdown(plan: Plan, *, limit: int = GITHUB_LIMIT, title: str = "ecsched plan", key: str | None = None,
             now: datetime | None = None) -> str:
    """The PR comment: a hidden marker (to update it in place), callouts for pauses, resumes, drift and
    conflicts, a summary table, then each rule's diff in a collapsible block. It stays within `limit`
    characters (GitHub's comment limit); what does not fit is counted and said."""
    shown = sorted((c for c in plan.changes if c.action != "noop"),
                   key=lambda c: (_PRIORITY.get(c.action, 9) - (2 if c.drift else 0) - (1 if c.pausing or c.resuming
                                                                                          else 0)))
    head = [marker(key), f"### {title}", "", summary(plan), ""]
    if not shown:
        return "\n".join([*head, "No changes: AWS matches the file."]) + "\n"
    pausing = [c.name for c in shown if c.pausing]
    resuming = [c.name for c in shown if c.resuming]
    drifted = [c for c in shown if c.drift]
    conflicts = [c.name for c in shown if c.action == "conflict"]

    def names(items: list[str]) -> str:
        listed = ", ".join(f"`{n}`" for n in items[:20])
        return listed + (f" and {len(items) - 20} more" if len(items) > 20 else "")

    if pausing or resuming:
        head += ["> [!IMPORTANT]"]
        if pausing:
            head += [f"> **⏸ Pausing {len(pausing)} batch{'es' if len(pausing) != 1 else ''}**: {names(pausing)}"]
        if pausing and resuming:
            head += [">"]
        if resuming:
            head += [f"> **▶ Resuming {len(resuming)} batch{'es' if len(resuming) != 1 else ''}**: "
                     f"{names(resuming)}"]
        head += [""]
    if drifted:
        head += ["> [!WARNING]", f"> **Drift**: {len(drifted)} rule{'s were' if len(drifted) != 1 else ' was'} "
                 f"changed outside ecsched since the last apply: {names([c.name for c in drifted])}. "
                 "Applying the file overwrites those changes.", ""]
    if conflicts:
        head += ["> [!CAUTION]", f"> **Refused**: {names(conflicts)} exist in AWS but are not ecsched's; apply "
                 "will not touch them.", ""]
    table_head = ["| | rule | action | what changes |", "|---|---|---|---|"]
    rows = [f"| {SYMBOL[c.action]} | `{c.name}` | {_md_action(c)} | {_md_cell(_what(c))} |" for c in shown]

    def footer(in_table: int, detailed: int) -> str:
        n = len(shown)
        if in_table == n and detailed == n:
            return ""
        return (f"\n_Cut to fit GitHub's {GITHUB_LIMIT:,}-character comment limit: {n - in_table} of {n} changed "
                f"rules left out (the table lists {in_table}, with the diff of the first {detailed}). Run "
                "`ecsched diff` for the full plan._\n")

    reserve = len(footer(0, 0)) + 2
    body = "\n".join(head + table_head) + "\n"
    blocks = [_block(c, now) for c in shown] if len(shown) <= 200 else None  # big plans: built as they fit
    fits = blocks is not None and len(body) + sum(map(len, rows)) + len(rows) + 1 + sum(map(len, blocks)) <= limit
    # When it cannot all fit, the table gets at most half the room and the diffs the rest: an index of
    # rules with no diffs at all would help a reviewer less.
    table_room = limit - reserve if fits else max(len(body), (limit - reserve) // 2)
    in_table = 0
    for row in rows:
        if len(body) + len(row) + 1 > table_room:
            break
        body += row + "\n"
        in_table += 1
    body += "\n"
    detailed = 0
    for i, ch in enumerate(shown[:in_table]):
        block = blocks[i] if blocks is not None else _block(ch, now)
        if len(body) + len(block) + reserve > limit:
            break
        body += block
        detailed += 1
    body += footer(in_table, detailed)
    return body


def _md_cell(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")[:200]
