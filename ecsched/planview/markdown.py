"""The plan as a pull-request comment: a hidden marker (to update it in place), callouts for pauses,
resumes, drift and conflicts, a summary table, then each rule's fields and diff in a collapsible block.
It stays within GitHub's comment limit; what does not fit is counted and said."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from typing import Any

from ecsched.config.secrets import mask_config
from ecsched.plan import Change, FieldChange, Plan
from ecsched.planview.text import masked, reason, summary, unified
from ecsched.planview.when import describe, schedule_line
from ecsched.report import SYMBOL

GITHUB_LIMIT = 65536
MARKER = "<!-- ecsched:plan -->"
MAX_FIELDS = 20  # field lines per rule; the diff below has the rest

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
    if ch.action in ("conflict", "delete"):
        return reason(ch)
    if ch.action == "create":
        return "new rule"
    paths = list(dict.fromkeys(f.path for f in ch.fields))
    keys: list[str] = []
    for p in paths:  # as many as fit a table cell; the block below lists them
        if keys and sum(len(k) + 2 for k in keys) + len(p) > 150:
            keys.append(f"and {len(paths) - len(keys)} more")
            break
        keys.append(p)
    if ch.adopt:
        keys.insert(0, "adopt (take ownership)")
    if ch.origin == "outside":
        return "changed outside ecsched: " + ", ".join(keys) + " (apply reverts it)"
    return ", ".join(keys)


def code(text: str) -> str:
    """`text` as an inline code span, whatever backticks it holds."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _value(v: Any) -> str:
    if v is None:
        return "_(none)_"
    return code(json.dumps(mask_config(v), ensure_ascii=False, separators=(", ", ": "))[:120])


def field_lines(fields: tuple[FieldChange, ...]) -> list[str]:
    """One bullet per changed field: `path`: before → after (added and removed said as such)."""
    out = []
    for f in map(masked, fields[:MAX_FIELDS]):
        if f.before is None:
            out.append(f"- {code(f.path)}: added, {_value(f.after)}")
        elif f.after is None:
            out.append(f"- {code(f.path)}: removed (was {_value(f.before)})")
        else:
            out.append(f"- {code(f.path)}: {_value(f.before)} → {_value(f.after)}")
    if len(fields) > MAX_FIELDS:
        out.append(f"- and {len(fields) - MAX_FIELDS} more (see the diff)")
    return out


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
    why = reason(ch)
    if why:
        lines += [html.escape(why), ""]
    if ch.action == "update" and ch.fields:
        lines += [*field_lines(ch.fields), ""]
    diff = [d for d in unified(ch) if not d.startswith(("---", "+++"))]
    if diff:
        lines += _fence(diff)
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def markdown(plan: Plan, *, limit: int = GITHUB_LIMIT, title: str = "ecsched plan", key: str | None = None,
             now: datetime | None = None) -> str:
    shown = sorted((c for c in plan.changes if c.action != "noop"),
                   key=lambda c: (_PRIORITY.get(c.action, 9) - (2 if c.drift else 0) - (1 if c.pausing or c.resuming
                                                                                          else 0)))
    head = [marker(key), f"### {title}", "", summary(plan), ""]
    if not shown:
        return "\n".join([*head, "No changes: AWS matches the file."]) + "\n"
    head += _callouts(shown)
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


def _callouts(shown: list[Change]) -> list[str]:
    pausing = [c.name for c in shown if c.pausing]
    resuming = [c.name for c in shown if c.resuming]
    drifted = [c for c in shown if c.drift]
    conflicts = [c.name for c in shown if c.action == "conflict"]
    deletes = [c.name for c in shown if c.action == "delete"]

    def names(items: list[str]) -> str:
        listed = ", ".join(f"`{n}`" for n in items[:20])
        return listed + (f" and {len(items) - 20} more" if len(items) > 20 else "")

    out: list[str] = []
    if pausing or resuming:
        out += ["> [!IMPORTANT]"]
        if pausing:
            out += [f"> **⏸ Pausing {len(pausing)} batch{'es' if len(pausing) != 1 else ''}**: {names(pausing)}"]
        if pausing and resuming:
            out += [">"]
        if resuming:
            out += [f"> **▶ Resuming {len(resuming)} batch{'es' if len(resuming) != 1 else ''}**: "
                    f"{names(resuming)}"]
        out += [""]
    if deletes:
        out += ["> [!WARNING]", f"> **Deleting {len(deletes)} rule{'s' if len(deletes) != 1 else ''}** that the "
                f"file no longer has (--prune): {names(deletes)}. Each block below says why.", ""]
    if drifted:
        out += ["> [!WARNING]", f"> **Drift**: {len(drifted)} rule{'s were' if len(drifted) != 1 else ' was'} "
                f"changed outside ecsched since the last apply: {names([c.name for c in drifted])}. "
                "Applying the file overwrites those changes.", ""]
    if conflicts:
        out += ["> [!CAUTION]", f"> **Refused**: {names(conflicts)} exist in AWS but are not ecsched's; apply "
                "will not touch them.", ""]
    return out


def _md_cell(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")[:200]
