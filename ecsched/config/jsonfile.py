"""JSON text to data: duplicate keys are errors, and problems are located through the YAML reader."""

from __future__ import annotations

import json
from typing import Any

from ecsched.config.file import Locations, Path, Position
from ecsched.config.source import LoadFailed
from ecsched.config.yamlfile import parse_yaml
from ecsched.errors import Problem
from ecsched.yamlio import MAX_DEPTH


def too_deep(data: Any) -> bool:
    """More than MAX_DEPTH nested lists and objects (the readers after this one recurse)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(value, dict):
            stack += [(v, depth + 1) for v in value.values() if isinstance(v, dict | list)]
        elif isinstance(value, list):
            stack += [(v, depth + 1) for v in value if isinstance(v, dict | list)]
    return False


def _deep(path: str) -> LoadFailed:
    return LoadFailed([Problem(f"nested more than {MAX_DEPTH} levels deep; a config needs fewer than 10",
                               file=path)])


def parse_json(path: str, text: str, *, located: bool = True) -> tuple[Any, dict[Path, Position]]:
    """JSON; duplicate keys are errors. `located`: locations from the text (not for generated JSON)."""
    dupes: list[str] = []

    def no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                dupes.append(k)
            out[k] = v
        return out

    try:
        data = json.loads(text, object_pairs_hook=no_dupes)
    except json.JSONDecodeError as e:
        raise LoadFailed([Problem(f"JSON syntax error: {e.msg}", file=path, line=e.lineno, col=e.colno)]) from None
    except RecursionError:  # the C scanner recurses once per level
        raise _deep(path) from None
    if too_deep(data):
        raise _deep(path)
    # JSON is (nearly) YAML: the YAML reader knows lines, so it locates problems (duplicates, and the
    # rest on demand). Tabs are JSON whitespace but not YAML's; one space keeps every column.
    if dupes:
        if located:
            parse_yaml(path, text.replace("\t", " "), reader="JSON")  # raises LoadFailed naming every duplicate
        raise LoadFailed([Problem(f"duplicate key `{k}`; JSON readers would silently keep only the last one",
                                  file=path) for k in dict.fromkeys(dupes)])
    if not located:
        return data, {}

    def locate() -> dict[Path, Position]:
        try:
            _, locs = parse_yaml(path, text.replace("\t", " "))
        except LoadFailed:
            return {}
        return dict(locs)

    return data, Locations(locate)
