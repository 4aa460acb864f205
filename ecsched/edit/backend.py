"""`backend: scheduler` in the file, for `migrate`: on the rules that moved, or once at the top level when
every rule of the file runs on Scheduler. Only the lines that say it change (flow-style rules included)."""

from __future__ import annotations

import yaml

import ecsched.edit.document as document
import ecsched.edit.splice as splice
from ecsched.edit.document import Doc
from ecsched.edit.splice import FileEdit, Splice
from ecsched.errors import EcschedError

_ANCHOR_KEYS = ("name",)


def _value(doc: Doc, backend: str) -> str:
    return f'"{backend}"' if doc.kind == "json" else backend


def _own_value(doc: Doc, node: yaml.MappingNode, what: str) -> yaml.Node | None:
    own = document.entry(node, "backend")
    if not own:
        return None
    v = own[-1][1]
    raw = doc.text[v.start_mark.index:v.end_mark.index]
    if len(own) > 1 or "{{" in raw or not splice.one_line(doc.text, v):
        raise EcschedError(f"{doc.path}:{v.start_mark.line + 1}: {what}: `backend:` is not one plain value")
    return v


def set_backend(path: str, indexes: set[int], backend: str = "scheduler") -> tuple[FileEdit, bool]:
    """The edit that makes the rules at `indexes` (positions in `rules:`) say `backend`. Returns it (not
    written) and whether the top level was edited. Raises EcschedError when the file cannot be edited
    safely (Jsonnet, a rule shared through an anchor, a template call where the edit would go)."""
    doc = document.load_doc(path)
    if doc.kind == "jsonnet":
        raise EcschedError(f"{path} is Jsonnet, which ecsched does not rewrite")
    root = doc.root
    assert isinstance(root, yaml.MappingNode)  # load_doc refuses anything else
    seq = document.rules_node(path, root)
    top_v = _own_value(doc, root, "the top level")
    top = document.scalar(top_v) if top_v is not None else None

    def backend_of(i: int) -> str:
        node = doc.rules[i].node
        own = document.lookup(node, "backend") if node is not None else None
        return str(document.scalar(own) if own is not None else top or "rules")

    count = len(doc.rules)
    moving = {i for i in indexes if i < count and backend_of(i) != backend}
    fe = FileEdit(path=path, old=doc.text, new=doc.text, bom=doc.bom)
    if not moving or seq is None:
        return fe, False
    everything = all(i in moving or backend_of(i) == backend for i in range(count))
    splices: list[Splice] = []
    for i in sorted(moving):
        rule = doc.rules[i]
        what = f"rule #{i + 1}" if rule.literal is None else f"rule {rule.literal}"
        if rule.node is None:
            raise EcschedError(f"{path}: {what} is not a mapping")
        if rule.shared:
            raise EcschedError(f"{path}:{rule.node.start_mark.line + 1}: {what} is shared through a YAML anchor")
        own = _own_value(doc, rule.node, what)
        if own is not None:
            splices.append(splice.replace_value(doc.text, own, backend))
        elif not everything or document.lookup(rule.node, "backend", own=False) is not None:
            after = splice.anchor(doc, rule.node, _ANCHOR_KEYS, what)
            line = f"{splice.key_text(doc.kind, 'backend')}: {_value(doc, backend)}"
            splices.append(splice.insert_entry(doc, rule.node, after, line, None, what))
    if everything:
        line = f"{splice.key_text(doc.kind, 'backend')}: {_value(doc, backend)}"
        if top_v is not None:
            splices.append(splice.replace_value(doc.text, top_v, backend))
        elif root.flow_style:  # JSON: after the first one-line top-level entry
            keys = tuple(str(k.value) for k, v in root.value if isinstance(k, yaml.ScalarNode)
                         and splice.one_line(doc.text, v))
            after = splice.anchor(doc, root, keys, "the top level")
            splices.append(splice.insert_entry(doc, root, after, line, None, "the top level"))
        else:
            rules_key = document.entry(root, "rules")[-1][0]
            splices.append(splice.insert_before(doc, rules_key, line))
    fe.new = splice.apply(doc.text, splices)
    _verify(doc, fe.new, moving, backend, everything)
    return fe, everything


def _verify(doc: Doc, new: str, moving: set[int], backend: str, top_edited: bool) -> None:
    """Read back: the moved rules say `backend`, and nothing else reads differently."""
    try:
        root = document.compose(doc.path, new, doc.kind)
    except EcschedError as e:
        raise EcschedError(f"the edit would not parse ({e})") from None
    ok = isinstance(root, yaml.MappingNode) and splice.same_outside_rules(
        doc.root, root, doc.path, skip="backend" if top_edited else None)
    if ok and top_edited:
        assert isinstance(root, yaml.MappingNode)
        ok = document.scalar(document.lookup(root, "backend")) == backend
    old_seq, new_seq = document.rules_node(doc.path, doc.root), document.rules_node(doc.path, root)
    top = document.scalar(document.lookup(root, "backend")) if isinstance(root, yaml.MappingNode) else None
    for i, (b, a) in enumerate(zip(old_seq.value if old_seq else [], new_seq.value if new_seq else [],
                                   strict=False)):
        if not ok:
            break
        if i in moving:
            own = document.lookup(a, "backend") if isinstance(a, yaml.MappingNode) else None
            ok = (document.scalar(own) if own is not None else top) == backend and splice.same(b, a, "backend")
        else:
            ok = splice.same(b, a)
    if not ok:
        raise EcschedError("the edit did not read back as intended")
