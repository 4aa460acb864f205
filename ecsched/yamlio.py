"""The one place that chooses YAML loaders and dumpers.

Reading is YAML 1.2 (core schema), as ecschedule's Go reader types plain scalars: pyyaml follows
YAML 1.1, where `on`, `yes`, `off` are booleans, `12:30` is 750 and `2026-04-01` a date, so an
environment value `FLAG: on` would reach the task as "true". Here they stay text. Keys are text as
written (`TRUE:`, `1.10:`), and `environment` values stay as written (`PY: 3.10` is "3.10"), as Go
reads them into map[string]string.

    node = compose(text)        # nodes with positions (edits, locations); raises YamlError
    data = load(text)           # plain data, the same values the config loader reads
    text = dump(data)           # the one output style: block mappings, lists of scalars on one line

Hostile input: aliases may not expand to more than MAX_NODES values (a 271-byte "billion laughs"
file would otherwise take minutes and gigabytes), nor refer to themselves, and collections nest at
most MAX_DEPTH deep (the readers after this one recurse). Each is one YamlError with its line.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

MAX_NODES = 1_000_000  # values after alias expansion; 10,000 ordinary rules are about 400,000
MAX_DEPTH = 64  # a config nests 7 deep (rules, a rule, containerOverrides, one, environment, a value)

# An anchor (`&name`) where YAML allows one; `&&` in a command may match too, which only costs a check.
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])&[^\s\[\]{},]")
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"

# The C composer is several times faster on large files; its marks count characters, as the pure-Python
# loader's do (checked with CRLF and non-BMP text).
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_YAML12 = [
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("tag:yaml.org,2002:float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                                r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+.0123456789"),
    (_NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (_MERGE, r"^(?:<<)$", "<"),
]


class Loader(_Base):  # type: ignore[misc, valid-type]
    """Plain scalars typed as YAML 1.2 (core schema) reads them."""


Loader.yaml_implicit_resolvers = {}
for _tag, _rx, _first in _YAML12:
    Loader.add_implicit_resolver(_tag, re.compile(_rx), list(_first))


class YamlError(yaml.MarkedYAMLError):
    """A problem found after parsing (a duplicate key, an alias bomb, too deep), with its position."""

    def __init__(self, problem: str, node: yaml.Node | None = None) -> None:
        super().__init__(problem=problem, problem_mark=node.start_mark if node is not None else None)


@contextmanager
def no_gc() -> Iterator[None]:
    # The composer allocates several objects per scalar; with the collector on, each generation-2 pass
    # rescans the growing tree, which makes a large file's parse about four times slower.
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def compose(text: str) -> yaml.Node | None:
    """The node tree (None for an empty document), checked against alias bombs and cycles."""
    with no_gc():
        node = yaml.compose(text, Loader=Loader)
    if node is not None and "&" in text and _ANCHOR.search(text):  # no anchor, no alias: a tree as big as the text
        check_aliases(node)
    return node


def check_aliases(root: yaml.Node) -> None:
    """Raise YamlError when aliases expand past MAX_NODES values or refer to their own collection.

    Expanded sizes are memoized per node (aliases share nodes), so this is linear in the text."""
    size: dict[int, int] = {}
    path: set[int] = set()  # collections whose subtree is being counted
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        kids = _children(node)
        if done:
            path.discard(key)
            total = 1 + sum(size[id(k)] for k in kids)
            if total > MAX_NODES:
                raise YamlError(f"its aliases (*name, <<: *name) expand to more than {MAX_NODES:,} values: "
                                "an alias bomb? write the values out, or share fewer levels", node)
            size[key] = total
        elif key not in size:
            if key in path:
                raise YamlError("an alias refers to the collection that contains it (a cycle)", node)
            if not kids:
                size[key] = 1
                continue
            path.add(key)
            stack.append((node, True))
            stack += [(k, False) for k in kids if id(k) not in size]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def load(text: str) -> Any:
    """Plain data with YAML 1.2 typing, as the config loader reads it (without positions).

    Raises yaml.YAMLError (YamlError for duplicate keys and the limits)."""
    node = compose(text)
    if node is None:
        return None
    problems: list[YamlError] = []
    data = Walker(problems).walk(node, ())
    if problems:
        raise problems[0]
    return data


def scalar(node: yaml.ScalarNode) -> Any:
    """One scalar's value, typed as `load` types it."""
    return Walker([])._scalar(node)


def _yaml12_int(text: str) -> int:
    """YAML 1.2 integers: decimal (a leading 0 does not make it octal), 0o octal, 0x hex."""
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)


Path = tuple[str | int, ...]
Position = tuple[int, int]


class Walker:
    """Nodes to plain data. Problems (duplicate keys, bad tags, too deep) are collected, not raised.

    With `locs`, also records where each path is, (line, col) 1-based: a second, lazy pass, because
    on the happy path of a large file the paths are most of the cost."""

    def __init__(self, problems: list[YamlError], locs: dict[Path, Position] | None = None,
                 reader: str = "YAML") -> None:
        self.problems = problems
        self.reader = reader
        self.locs = locs
        self.ctor = yaml.constructor.SafeConstructor()
        self.as_written = False
        self.depth = 0

    def walk(self, node: yaml.Node, p: Path) -> Any:
        with no_gc():
            return self._walk(node, p)

    def _walk(self, node: yaml.Node, p: Path) -> Any:
        locs = self.locs
        if locs is not None:
            locs[p] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            return self._scalar(node)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise YamlError(f"nested more than {MAX_DEPTH} levels deep; a config needs fewer than 10", node)
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, p)
            if locs is None:  # paths are only needed when recording where things are
                return [self._walk(v, p) for v in node.value]
            return [self._walk(v, (*p, i)) for i, v in enumerate(node.value)]
        finally:
            self.depth -= 1

    def _scalar(self, node: yaml.Node) -> Any:
        tag, value = node.tag, node.value
        if tag == _STR:  # most scalars: skip the constructor's dispatch
            return value
        if self.as_written and isinstance(node, yaml.ScalarNode) and tag != _NULL:
            return value  # an environment value: `PY: 3.10` stays "3.10", not 3.1
        if isinstance(node, yaml.ScalarNode) and not node.style:  # plain, so typed by Loader
            if tag == _INT:
                return _yaml12_int(value)
            if tag == _BOOL:
                return value.lower() == "true"
            if tag == _NULL:
                return None
        try:
            return self.ctor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as e:
            self.problems.append(YamlError(str(e.problem or e), node))
            return None
        except (yaml.YAMLError, ValueError, TypeError) as e:  # `!!int abc`
            self.problems.append(YamlError(f"cannot read `{value}` as {tag}: {e}", node))
            return None

    def _mapping(self, node: yaml.MappingNode, p: Path) -> dict[Any, Any]:
        locs = self.locs
        out: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for knode, vnode in node.value:
            if knode.tag == _MERGE:  # `<<: *base`: explicit keys win over merged ones
                sources = vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]
                for src in sources:
                    value = self._walk(src, p)
                    if isinstance(value, dict):
                        merged = {**value, **merged}
                continue
            if not isinstance(knode, yaml.ScalarNode):
                self.problems.append(YamlError("keys must be plain scalars", knode))
                continue
            key = knode.value if knode.tag == _STR or not knode.style else str(self._scalar(knode))
            if key in out:
                self.problems.append(YamlError(f"duplicate key `{key}` (first at line {first_line[key]}); "
                                               f"{self.reader} readers would silently keep only the last one", knode))
                continue
            first_line[key] = knode.start_mark.line + 1
            kp = (*p, key)
            if key == "environment" and isinstance(vnode, yaml.MappingNode):
                self.as_written = True
                try:
                    out[key] = self._walk(vnode, kp)
                finally:
                    self.as_written = False
            else:
                out[key] = self._walk(vnode, kp)
            if locs is not None:
                locs[kp] = (knode.start_mark.line + 1, knode.start_mark.column + 1)
        return {**merged, **out} if merged else out


# --- writing -------------------------------------------------------------------------------------


class Dumper(yaml.SafeDumper):
    """Quotes a string that YAML 1.1 or 1.2 would read as something else (`on`, `0o17`), so both
    ecschedule's reader and ours read back the text."""


for _tag, _rx, _first in _YAML12:
    Dumper.add_implicit_resolver(_tag, re.compile(_rx), list(_first))


def _represent_list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    flow = bool(items) and all(not isinstance(i, dict | list) for i in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


Dumper.add_representer(list, _represent_list)


def dump(data: Any) -> str:
    """Block style, but lists of plain values on one line (`command: [php, artisan, x]`), as people
    write them; keys in the data's order; no line wrapping."""
    return str(yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False,
                         width=1000))


def dump_all(docs: list[Any]) -> str:
    """Several documents, `---` between them, in `dump`'s style."""
    return str(yaml.dump_all(docs, Dumper=Dumper, sort_keys=False, allow_unicode=True,
                             default_flow_style=False, width=1000))
