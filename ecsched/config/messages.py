"""Schema violations in words: `FILE:LINE:COL: rule NAME: message`, with did-you-mean hints."""

from __future__ import annotations

import difflib
import re
from typing import Any

from ecsched.config.file import ConfigFile
from ecsched.config.schema import SchemaError
from ecsched.errors import Problem
from ecsched.yamlio import Path

_WORDS = {"string": "a string", "integer": "an integer", "boolean": "true or false", "array": "a list",
          "object": "a mapping", "number": "a number", "null": "empty"}


def _type_name(v: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "a mapping", type(None): "empty (null)"}.get(type(v), type(v).__name__)


def _key_name(path: Path) -> str:
    keys = [p for p in path if isinstance(p, str)]
    if not keys:
        return "the top level"
    if isinstance(path[-1], int):
        return f"`{keys[-1]}[{path[-1]}]`"
    return f"`{keys[-1]}`"


def _span(lo: Any, hi: Any, unit: str = "") -> str:
    if lo is not None and hi is not None:
        return f"{lo}-{hi}{unit}"
    return f"at least {lo}{unit}" if lo is not None else f"at most {hi}{unit}"


def near(key: str, choices: list[str], cutoff: float = 0.6) -> str | None:
    """The known key `key` most likely misspells: by edit distance, else by case and `_`/`-`."""
    hits = difflib.get_close_matches(key, choices, n=1, cutoff=cutoff)
    if hits:
        return hits[0]
    # `Launch_Type`, `scheduleexpression`: the spelling differs only in case or `_`
    folded = {re.sub(r"[_\-]", "", k).lower(): k for k in choices}
    return folded.get(re.sub(r"[_\-]", "", key).lower())


def message(e: SchemaError) -> str:
    key = _key_name(e.path)
    if e.kind in ("custom", "warning"):
        return str(e.detail)
    if e.kind == "other":
        return f"{key}: {e.detail}"
    if e.kind == "unknown":
        hit = near(str(e.instance), e.detail)
        listed = ", ".join(e.detail) if len(e.detail) <= 12 else (
            f"{len(e.detail)} of them, in `ecsched schema` and docs/configuration.md")
        hint = f"; did you mean `{hit}`?" if hit else f"; valid keys here: {listed}"
        return f"unknown key `{e.instance}`{hint}"
    if e.kind == "required":
        return f"missing required key `{e.detail}`"
    if e.kind == "type":
        # `null` is allowed where leaving the key empty is: not worth naming as a choice.
        wanted = [t for t in e.detail if t != "null"] or ["null"]
        expected = " or ".join(_WORDS.get(t, t) for t in wanted)
        msg = f"{key} must be {expected}, not {_type_name(e.instance)}"
        if "integer" in e.detail and isinstance(e.instance, str) and e.instance.strip().isdigit():
            msg += f" (write {e.instance.strip()} without quotes)"
        elif "string" in e.detail and isinstance(e.instance, int | float) and not isinstance(e.instance, bool):
            msg += f' (quote it: "{e.instance}")'
        elif "string" in e.detail and isinstance(e.instance, bool):
            msg += " (quote it if you meant the text)"
        return msg
    if e.kind == "enum":
        choices = ", ".join(str(c) for c in e.detail)
        same = [c for c in e.detail if isinstance(c, str) and str(e.instance).lower() == c.lower()]
        hint = f"; did you mean `{same[0]}`?" if same else ""
        return f"{key} must be one of {choices}, not `{e.instance}`{hint}"
    if e.kind == "range":
        return f"{key} {e.instance} is out of range {_span(*e.detail)}"
    if e.kind in ("length", "items"):
        lo, hi = e.detail
        if lo and not e.instance:
            return f"{key} must not be empty"
        if e.kind == "length":
            return f"{key} is {len(e.instance)} characters long; allowed: {_span(lo, hi, ' characters')}"
        return f"{key} has {len(e.instance)} items; allowed: {_span(lo, hi)}"
    if e.kind == "pattern":
        return f"{key} `{e.instance}` {e.detail}"
    if e.kind == "key":  # a property name breaks `propertyNames`: say which, briefly
        k = str(e.instance)
        shown = k if len(k) <= 40 else k[:40] + "…"
        inner = message(SchemaError(e.detail.kind, ("x",), e.detail.instance, e.detail.detail))
        return f"{key} key `{shown}`{inner[len('`x`'):]}"
    if e.kind == "properties":
        return f"{key} has {len(e.instance)} entries; at most {e.detail} allowed"
    return f"{key}: {e.kind}"  # pragma: no cover - every kind above


def unknown_top_level(key: str, known: list[str]) -> tuple[bool, str]:
    """(is it an error, the message) for a top-level key the schema does not know.

    ecschedule ignores such keys, and people park YAML anchors there: a warning. A near miss of a
    known key stays an error: `rule:` for `rules:` would otherwise silently drop every rule."""
    hit = near(key, known, cutoff=0.8)
    if hit:
        return True, (f"unknown key `{key}`; did you mean `{hit}`? (an unknown top-level key is ignored, "
                      "with everything under it)")
    return False, (f"unknown top-level key `{key}` is ignored (as ecschedule ignores it); name it `x-{key}` "
                   "to keep YAML anchors there without this warning")


def rule_name(f: ConfigFile, path: Path) -> str | None:
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rules = f.data.get("rules") or []
        if path[1] < len(rules) and isinstance(rules[path[1]], dict):
            name = rules[path[1]].get("name")
            return str(name) if name is not None else f"#{path[1] + 1}"
    return None


def problems(f: ConfigFile, errors: list[SchemaError], known_top: list[str]) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) as Problems, each located at its file, line and rule."""
    errs: list[Problem] = []
    warns: list[Problem] = []
    for e in errors:
        where = {"rule": rule_name(f, e.path), **f.where(e.path)}
        if e.kind == "warning" and len(e.path) == 1 and e.path[0] not in known_top:
            is_error, text = unknown_top_level(str(e.path[0]), known_top)
            (errs if is_error else warns).append(Problem(text, **where))
        elif e.kind == "warning":
            warns.append(Problem(message(e), **where))
        else:
            errs.append(Problem(message(e), **where))
    return errs, warns
