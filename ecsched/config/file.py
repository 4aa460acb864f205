"""A loaded config file: its data, and where each value came from (file, line, column)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ecsched.errors import Problem
from ecsched.yamlio import Path, Position

__all__ = ["ConfigFile", "Locations", "Path", "Position"]


class Locations(dict[Path, Position]):
    """path -> (line, col), filled from `compute` on first use. A real dict, so callers index it.

    Locations are computed only when something asks for one (a problem to report, a rule's source
    line): on the happy path of a large file they are most of the parsing cost."""

    def __init__(self, compute: Callable[[], dict[Path, Position]] | None = None) -> None:
        super().__init__()
        self._compute = compute

    def _fill(self) -> None:
        if self._compute is not None:
            compute, self._compute = self._compute, None
            self.update(compute())

    def __getitem__(self, key: Path) -> Position:
        self._fill()
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._fill()
        return super().__contains__(key)

    def get(self, key: Path, default: Any = None) -> Any:  # type: ignore[override]
        self._fill()
        return super().get(key, default)

    def __iter__(self) -> Iterator[Path]:
        self._fill()
        return super().__iter__()

    def __len__(self) -> int:
        self._fill()
        return super().__len__()

    def keys(self) -> Any:
        self._fill()
        return super().keys()

    def items(self) -> Any:
        self._fill()
        return super().items()

    def values(self) -> Any:
        self._fill()
        return super().values()


@dataclass
class ConfigFile:
    path: str
    data: dict[str, Any]
    locations: dict[Path, Position] = field(default_factory=dict)
    # Jsonnet: the text as written. Its output's lines mean nothing to the user, so problems are
    # located by finding the key in the source instead (see `guess`).
    source: str | None = None
    # Problems found while loading (a template call, a plugin) that did not stop the parse.
    problems: list[Problem] = field(default_factory=list)
    # Lines whose template calls failed: what validation finds there only repeats that failure.
    failed_lines: set[int] = field(default_factory=set)

    def where(self, path: Path) -> dict[str, Any]:
        """file/line/col for a Problem: the closest located ancestor of `path`."""
        p = tuple(path)
        while p and p not in self.locations:
            p = p[:-1]
        if p in self.locations:
            line, col = self.locations[p]
            return {"file": self.path, "line": line, "col": col}
        if self.source is not None:
            return {"file": self.path, **guess(self.source, self.data, tuple(path))}
        return {"file": self.path, "line": None, "col": None}


def guess(source: str, data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Where `path` most likely is in a Jsonnet source: its last key, after the rule's name if any."""
    start = -1
    keys = [k for k in path if isinstance(k, str)]
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rules = data.get("rules")
        rule = rules[path[1]] if isinstance(rules, list) and path[1] < len(rules) else None
        name = rule.get("name") if isinstance(rule, dict) else None
        if isinstance(name, str):
            m = re.search(r"""(["'])%s\1""" % re.escape(name), source)
            if m:
                start = m.start()
                keys = [k for k in keys[1:] if k != "name"] if len(path) <= 3 else keys[1:]
    if keys:
        m = re.compile(r"""(?<![\w$])(["']?)%s\1\s*:""" % re.escape(keys[-1])).search(source, max(start, 0))
        if m:
            start = m.start()
    if start < 0:
        return {"line": None, "col": None}
    line = source.count("\n", 0, start) + 1
    return {"line": line, "col": start - (source.rfind("\n", 0, start) + 1) + 1}
