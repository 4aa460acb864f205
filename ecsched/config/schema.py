"""The schema (schema.json, JSON Schema draft 2020-12), and jsonschema as its validator.

The same file drives editors and `ecsched validate`. jsonschema's errors are turned into
`SchemaError`s (a kind, a path, what the message needs); config/messages.py words them.

Two extensions, both ignored by other validators:
- `deprecated: true` (an annotation in draft 2020-12) with `deprecationMessage` (which editors show
  as a warning) is a warning here too: a key that is accepted but has no effect.
- `errorMessage` (which VS Code also shows) replaces the generic message of a rule written with
  `if`/`then`/`not`; `x-at` names the key of the instance to locate it at.

jsonschema is imported when a file is validated, never for `--help`; its validator is built once.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from ecsched.yamlio import Path, no_gc

SCHEMA_FILE = os.path.join(os.path.dirname(__file__), "schema.json")


@cache
def schema() -> dict[str, Any]:
    # Beside this module (package data); importlib.resources would cost more to import than this takes.
    with open(SCHEMA_FILE, encoding="utf-8") as f:
        return dict(json.load(f))


@dataclass(frozen=True)
class SchemaError:
    """One schema violation: `kind` is the keyword, `path` where, `detail` what the message needs.

    Kinds: unknown, required, type, enum, range, length, pattern, items, key, properties, custom (an
    `errorMessage`), warning (a `deprecated` key), and other (jsonschema's own words: a keyword that
    the shipped schema does not use for errors)."""

    kind: str
    path: Path
    instance: Any
    detail: Any = None
    origin: Path | None = None  # where jsonschema reported it, when not at `path` (`x-at`)


def _deprecated(validator: Any, value: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if value is True:
        from jsonschema import ValidationError

        yield ValidationError(schema.get("deprecationMessage") or "deprecated", validator="deprecated")


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with its local `$ref`s replaced by what they name (the shipped one has no recursive
    definition): the same rules, without a reference lookup for every rule (about 10% of the time)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if len(node) == 1 and isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref[len("#/$defs/"):]], defs)
        return {k: v if k == "$defs" else _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


@cache
def validator() -> Any:
    """The compiled validator: a Draft 2020-12 validator that also reports `deprecated` keys."""
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    cls = extend(Draft202012Validator, {"deprecated": _deprecated})
    return cls(_inline(schema(), schema().get("$defs", {})))


def _path(e: Any) -> Path:
    return tuple(e.absolute_path)


def _fill(message: str, data: Any, path: Path) -> str:
    """`{key}` in an errorMessage: that key of the rule the error is in (`{launch_type}`)."""
    if "{" not in message or len(path) < 2 or path[0] != "rules":
        return message
    try:
        rule = data["rules"][path[1]]
        return re.sub(r"\{(\w+)\}", lambda m: str(rule.get(m[1], m[0])), message)
    except (KeyError, IndexError, TypeError, AttributeError):
        return message


def _translate(e: Any, data: Any = None) -> Iterator[SchemaError]:
    """One jsonschema error as our SchemaErrors (required and additionalProperties can be several)."""
    kind, s, inst, path = e.validator, e.schema if isinstance(e.schema, dict) else {}, e.instance, _path(e)
    if kind == "deprecated":
        yield SchemaError("warning", path, inst, e.message)
    elif isinstance(s.get("errorMessage"), str):
        at = s.get("x-at")
        yield SchemaError("custom", (*path, at) if at else path, inst, _fill(s["errorMessage"], data, path),
                          origin=path)
    elif e.relative_schema_path and "propertyNames" in e.relative_schema_path:
        inner = next(_translate(_Inner(e)), None)
        if inner is not None:
            yield SchemaError("key", path, inst, inner)
    elif kind == "additionalProperties" and isinstance(inst, dict):
        allowed = sorted(s.get("properties", {}))
        patterns = [re.compile(p) for p in s.get("patternProperties", {})]
        for key in inst:
            if key not in allowed and not any(p.search(key) for p in patterns):
                yield SchemaError("unknown", (*path, key), key, allowed)
    elif kind == "required":
        for key in e.validator_value:
            if isinstance(inst, dict) and key not in inst:
                yield SchemaError("required", path, inst, key)
    elif kind == "type":
        types = e.validator_value
        yield SchemaError("type", path, inst, [types] if isinstance(types, str) else list(types))
    elif kind == "enum":
        yield SchemaError("enum", path, inst, list(e.validator_value))
    elif kind in ("minimum", "maximum"):
        yield SchemaError("range", path, inst, (s.get("minimum"), s.get("maximum")))
    elif kind in ("minLength", "maxLength"):
        yield SchemaError("length", path, inst, (s.get("minLength"), s.get("maxLength")))
    elif kind == "pattern":
        if inst != "":  # an empty string is minLength's to report
            yield SchemaError("pattern", path, inst, s.get("patternErrorMessage")
                              or f"must match the pattern {s.get('pattern')}")
    elif kind in ("minItems", "maxItems"):
        yield SchemaError("items", path, inst, (s.get("minItems"), s.get("maxItems")))
    elif kind == "maxProperties":
        yield SchemaError("properties", path, inst, e.validator_value)
    else:  # a keyword the shipped schema does not use for errors: say what jsonschema says
        yield SchemaError("other", path, inst, e.message)


class _Inner:
    """A propertyNames error, seen from inside: the key is the instance, the path the object's."""

    def __init__(self, e: Any) -> None:
        self.validator, self.schema, self.instance = e.validator, e.schema, e.instance
        self.absolute_path: tuple[Any, ...] = ()
        self.relative_schema_path: tuple[Any, ...] = ()
        self.validator_value, self.message = e.validator_value, e.message


def schema_errors(data: Any) -> list[SchemaError]:
    """Every violation (warnings included, as kind `warning`), one per key, in document order."""
    out: list[SchemaError] = []
    # jsonschema allocates several objects per value; each collection pass would rescan the file's
    # node tree (kept for locations), which cost a 1,000-rule YAML file about 40% more.
    with no_gc():
        for e in validator().iter_errors(data):
            out += _translate(e, data)
    # A wrong type makes the other keywords of that value repeat it; identical errors come from
    # several branches of one rule (`required` and `not` of the same `then`).
    typed = {x.path for x in out if x.kind == "type"}
    seen: set[tuple[str, Path, str]] = set()
    kept: list[SchemaError] = []
    for x in out:
        key = (x.kind, x.path, repr(x.detail))
        if key in seen or (x.path in typed and x.kind != "type"):
            continue
        seen.add(key)
        kept.append(x)
    return kept
