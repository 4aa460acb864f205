"""The config file as YAML nodes, for editing: positions only, values never constructed.

Template calls are first masked with underscores of the same length, newlines kept, so the masked text
parses and every position in it is a position in the file. JSON is read as the YAML it is. Reading
is `yamlio`'s, the config loader's own: YAML 1.2, so a value reads here as the loader reads it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ecsched import yamlio
from ecsched.errors import EcschedError

_ACTION = re.compile(r"\{\{.*?\}\}", re.S)


def mask(text: str) -> str:
    """Template calls -> underscores of the same length (newlines kept): positions do not move."""
    return _ACTION.sub(lambda m: re.sub(r"[^\n]", "_", m.group()), text)


def kind_of(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return {".json": "json", ".jsonnet": "jsonnet"}.get(ext, "yaml")


# --- the document --------------------------------------------------------------------------------


@dataclass
class Rule:
    index: int
    node: yaml.MappingNode | None  # None: the item is not a mapping
    literal: str | None  # the name as written; None when it is a template call
    shared: bool = False  # the node is reused through an anchor/alias/merge


@dataclass
class Doc:
    path: str
    text: str  # without BOM
    bom: bool
    kind: str
    rules: list[Rule] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # resolved, same order as rules
    root: yaml.Node | None = None  # the masked text's node tree


def line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def compose(path: str, text: str, kind: str) -> yaml.Node | None:
    """The node tree of the masked text: positions only. Values are never constructed (slow on big files,
    and constructing merges `<<:` entries into the nodes in place)."""
    masked = mask(text)
    if kind == "json":
        masked = masked.replace("\t", " ")  # JSON allows tab indentation, YAML does not; same length
    try:
        return yamlio.compose(masked)  # the loader's own YAML 1.2 reading, alias bombs refused
    except yaml.YAMLError as e:
        m = getattr(e, "problem_mark", None)
        where = f"{path}:{m.line + 1}" if m else path
        raise EcschedError(f"{where}: cannot locate the rules to edit: {getattr(e, 'problem', None) or e}; "
                           "fix the file (`ecsched validate`) or edit it by hand") from None


def read(path: str) -> tuple[str, bool]:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise EcschedError(f"{path}: no such file; pass the config with -c FILE") from None
    except OSError as e:
        raise EcschedError(f"{path}: cannot read: {e.strerror}") from None
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        return raw[3 if bom else 0:].decode("utf-8"), bom
    except UnicodeDecodeError:
        raise EcschedError(f"{path}: is not UTF-8 text; save it as UTF-8") from None


def entry(node: yaml.MappingNode, key: str) -> list[tuple[yaml.Node, yaml.Node]]:
    return [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key]


def lookup(node: yaml.MappingNode, key: str, *, own: bool = True) -> yaml.Node | None:
    """The value `key` has in the mapping as loaded: its own entry, else through `<<:` (the first merge
    source that sets it wins, as in YAML). `own=False`: what it would be without its own entry."""
    if own:
        mine = entry(node, key)
        if mine:
            return mine[-1][1]
    for k, m in node.value:
        if not (isinstance(k, yaml.ScalarNode) and k.tag == "tag:yaml.org,2002:merge"):
            continue
        for src in m.value if isinstance(m, yaml.SequenceNode) else [m]:
            if isinstance(src, yaml.MappingNode):
                found = lookup(src, key)
                if found is not None:
                    return found
    return None


def scalar(node: yaml.Node | None) -> Any:
    """A scalar node's value as the config loader reads it, YAML 1.2 (None for no node)."""
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode):
        return yamlio.scalar(node)
    return node.value


def rules_node(path: str, root: yaml.Node | None) -> yaml.SequenceNode | None:
    if not isinstance(root, yaml.MappingNode):
        raise EcschedError(f"{path}: the top level must be a mapping with `rules:`")
    found = entry(root, "rules")
    if not found:
        return None
    seq = found[-1][1]
    if not isinstance(seq, yaml.SequenceNode):
        raise EcschedError(f"{path}:{seq.start_mark.line + 1}: `rules:` must be a list")
    return seq


def _count_nodes(root: yaml.Node) -> dict[int, int]:
    """How often each node object occurs in the tree: > 1 means an alias or a merge shares it."""
    counts: dict[int, int] = {}
    stack = [root]
    while stack:
        n = stack.pop()
        counts[id(n)] = counts.get(id(n), 0) + 1
        if counts[id(n)] > 1:
            continue
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack += [k, v]
        elif isinstance(n, yaml.SequenceNode):
            stack += n.value
    return counts


def load_doc(path: str) -> Doc:
    """The file's text and, for YAML and JSON, its rules' nodes (Jsonnet: text only, it is computed)."""
    text, bom = read(path)
    doc = Doc(path=path, text=text, bom=bom, kind=kind_of(path))
    if doc.kind == "jsonnet":
        return doc
    root = doc.root = compose(path, text, doc.kind)
    seq = rules_node(path, root)
    if seq is None:
        return doc
    counts = _count_nodes(root) if root is not None else {}
    for i, item in enumerate(seq.value):
        if not isinstance(item, yaml.MappingNode):
            doc.rules.append(Rule(i, None, None))
            continue
        literal = None
        names = entry(item, "name")
        if names and isinstance(names[-1][1], yaml.ScalarNode):
            v = names[-1][1]
            raw = text[v.start_mark.index:v.end_mark.index]
            literal = None if "{{" in raw else str(v.value)
        doc.rules.append(Rule(i, item, literal, shared=counts.get(id(item), 0) > 1))
    return doc
