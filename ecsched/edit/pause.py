"""`disable` / `enable` in the file: add, change or remove one rule's `disabled:` and nothing else.

Conventions, so that the round trip holds (`enable` right after `disable` gives back the original bytes):
a paused rule has `disabled: true`, a running rule has no `disabled:` line. `disable` adds the line after
`scheduleExpression:` (else after `name:`), or turns an existing `disabled: false` into `true`; `enable`
removes it (or writes `disabled: false` when the rule would otherwise inherit `disabled: true` through a
YAML merge key). Every edit is checked by reading the result back before anything is written.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable
from datetime import date

import yaml

import ecsched.edit.document as document
import ecsched.edit.splice as splice
from ecsched.edit.document import Doc
from ecsched.edit.jsonnet import NotRewritten, jsonnet_advice
from ecsched.edit.splice import FileEdit, RuleEdit, Splice
from ecsched.errors import EcschedError

_ANCHOR_KEYS = ("scheduleExpression", "name")

# path -> the rule names of that file as loaded (templates evaluated, Jsonnet run), in order.
Resolver = Callable[[str], list[str]]


def reason_comment(reason: str, today: date) -> str:
    text = " ".join(reason.split())  # one line: a newline would end the comment
    return f"# paused {today.isoformat()}: {text}" if text else f"# paused {today.isoformat()}"


def _state(node: yaml.MappingNode) -> bool | None:
    """Paused (True), running (False, or no value), or None for a value the loader refuses: YAML 1.2
    reads `disabled: no` as text. An edit replaces such a value, as it would a wrong one."""
    value = document.scalar(document.lookup(node, "disabled"))
    return value if isinstance(value, bool) else (False if value is None else None)


def _disabled_now(node: yaml.MappingNode) -> bool:
    return _state(node) is True


def _inherited(node: yaml.MappingNode) -> bool:
    """Whether the rule would be paused without its own entry: only through `<<:`."""
    return document.scalar(document.lookup(node, "disabled", own=False)) is True


def _with_comment(text: str, value_end: int, comment: str | None, flow: bool = False) -> Splice | None:
    """Replace the comment after a block value (to the end of its line) by `comment`. In a flow mapping
    the rest of the line is more of the mapping: the comment is appended to the line instead."""
    if comment is None:
        return None
    _, end = splice.line_bounds(text, value_end)
    if flow:
        if "#" in text[value_end:end]:
            raise EcschedError("that line already has a comment; drop --reason, or edit `disabled:` by hand")
        return Splice(end, end, f"  {comment}")
    return Splice(value_end, end, f"  {comment}")


def _plan_rule(doc: Doc, node: yaml.MappingNode, name: str, want_disabled: bool,
               comment: str | None) -> list[Splice] | None:
    """The splices that make rule `name` paused (want_disabled) or running. None: already so."""
    text, kind = doc.text, doc.kind
    entries = document.entry(node, "disabled")
    flow = bool(node.flow_style)
    where = f"{doc.path}:{node.start_mark.line + 1}: rule {name}"
    if len(entries) > 1:
        raise EcschedError(f"{where}: `disabled:` appears {len(entries)} times; keep one, then retry")
    if entries:
        k, v = entries[0]
        raw = text[v.start_mark.index:v.end_mark.index]
        if "{{" in raw:
            raise EcschedError(f"{where}: `disabled:` is a template call ({raw.strip()}); ecsched will not "
                               "replace it: set it by hand, or change what the template reads")
        if not splice.one_line(text, v) or (not flow and not splice.rest_is_comment(text, v.end_mark.index)):
            raise EcschedError(f"{where}: `disabled:` is not a one-line value; set it by hand")
    current = _state(node)
    if current == want_disabled and not (want_disabled and comment and entries and not flow and kind != "json"):
        return None
    if current == want_disabled:
        # Already paused, but a new reason: just the comment.
        v = entries[0][1]
        return [s for s in [_with_comment(text, v.end_mark.index, comment)] if s]
    literal = "true" if want_disabled else "false"
    if entries:
        k, v = entries[0]
        if not want_disabled and not _inherited(node):
            return [splice.remove_entry(doc, node, k, v, f"rule {name}")]
        splices = [Splice(v.start_mark.index, v.end_mark.index,
                          literal if v.start_mark.index != v.end_mark.index else " " + literal)]
        if want_disabled:
            c = _with_comment(text, v.end_mark.index, comment, flow)
            splices += [c] if c else []
        return splices
    # No own entry: add one.
    after = splice.anchor(doc, node, _ANCHOR_KEYS, f"rule {name}")
    return [splice.insert_entry(doc, node, after, f"{splice.key_text(kind, 'disabled')}: {literal}", comment,
                                f"rule {name}")]


def _verify(doc: Doc, new: str, targets: dict[int, bool]) -> yaml.Node | None:
    """The edit must read as intended: those rules paused/running as asked, every other value the same
    (the edited rules' other keys too). Returns the edited file's node tree."""
    try:
        root = document.compose(doc.path, new, doc.kind)
    except EcschedError as e:
        raise EcschedError(f"{doc.path}: the edit would not parse ({e}); nothing was written: "
                           "please report this, and edit by hand") from None
    ok = splice.same_outside_rules(doc.root, root, doc.path)
    old_seq, new_seq = document.rules_node(doc.path, doc.root), document.rules_node(doc.path, root)
    for i, (b, a) in enumerate(zip(old_seq.value if old_seq else [], new_seq.value if new_seq else [],
                                   strict=False)):
        if not ok:
            break
        if i in targets:
            ok = isinstance(a, yaml.MappingNode) and _disabled_now(a) == targets[i] and splice.same(b, a, "disabled")
        else:
            ok = splice.same(b, a)
    if not ok:
        raise EcschedError(f"{doc.path}: the edit did not read back as intended; nothing was written: please "
                           "report this, and edit `disabled:` by hand")
    return root


def set_disabled(paths: list[str], patterns: list[str], disabled: bool, *, reason: str | None = None,
                 today: date | None = None, resolve: Resolver | None = None) -> list[FileEdit]:
    """Plan the edits that pause (`disabled`) or resume the rules matching `patterns` (globs) in
    `paths`. Nothing is written: call `FileEdit.write()`. Raises EcschedError, with nothing planned,
    when a name matches no rule (listing the nearest) or a file cannot be edited safely."""
    docs = [document.load_doc(p) for p in paths]
    # Names as loaded: literal names need no evaluation; templated names and Jsonnet files do.
    need = [d for d in docs if d.kind == "jsonnet" or any(r.literal is None and r.node is not None for r in d.rules)]
    for d in docs:
        d.names = [r.literal or "" for r in d.rules]
    if need and resolve is not None:
        literal = [n for d in docs for n in d.names if n]
        if not all(any(fnmatch.fnmatchcase(n, p) for n in literal) for p in patterns) or any(
                _has_magic(p) for p in patterns):
            for d in need:
                resolved = resolve(d.path)
                if d.kind == "jsonnet":
                    d.names = resolved
                elif len(resolved) == len(d.rules):
                    d.names = [r.literal or resolved[r.index] for r in d.rules]
    all_names = [n for d in docs for n in d.names if n]
    unknown = [p for p in patterns if not any(fnmatch.fnmatchcase(n, p) for n in all_names)]
    if unknown:
        raise EcschedError(_unknown_message(unknown, all_names, paths))
    comment = reason_comment(reason, today or date.today()) if (reason is not None and disabled) else None
    out: list[FileEdit] = []
    for d in docs:
        hits = [i for i, n in enumerate(d.names) if n and any(fnmatch.fnmatchcase(n, p) for p in patterns)]
        if not hits:
            continue
        if d.kind == "jsonnet":
            named = [d.names[i] for i in hits]
            raise NotRewritten(jsonnet_advice(d.path, d.text, named, disabled), named)
        if comment and d.kind == "json":
            raise EcschedError(f"{d.path}: JSON has no comments, so --reason cannot be kept there; leave out "
                               "--reason and give the reason in the pull request")
        splices: list[Splice] = []
        fe = FileEdit(path=d.path, old=d.text, new=d.text, bom=d.bom)
        targets: dict[int, bool] = {}
        for i in hits:
            rule, name = d.rules[i], d.names[i]
            if rule.node is None:
                raise EcschedError(f"{d.path}: rule #{i + 1} is not a mapping; fix the file first")
            if rule.shared:
                raise EcschedError(f"{d.path}:{rule.node.start_mark.line + 1}: rule {name} is shared through a YAML "
                                   "anchor (&/*/<<); editing it would change every use: edit by hand")
            got = _plan_rule(d, rule.node, name, disabled, comment)
            if got is None:
                fe.unchanged.append(name)
                continue
            splices += got
            targets[i] = disabled
        fe.new = splice.apply(d.text, splices)
        if fe.changed:
            new_root = _verify(d, fe.new, targets)
            fe.edits = _describe_edits(d, fe.new, new_root, sorted(targets))
        out.append(fe)
    return out


def _has_magic(p: str) -> bool:
    return any(c in p for c in "*?[")


def _describe_edits(d: Doc, new: str, new_root: yaml.Node | None, indexes: list[int]) -> list[RuleEdit]:
    """Which `disabled:` line each edited rule gained, changed or lost, read back from the result."""
    seq = document.rules_node(d.path, new_root)
    out: list[RuleEdit] = []
    for i in indexes:
        old_node = d.rules[i].node
        new_node = seq.value[i] if seq is not None and i < len(seq.value) else None
        before, bline = _disabled_line(d.text, old_node)
        after, aline = _disabled_line(new, new_node)
        out.append(RuleEdit(d.names[i], aline or bline or 0, before, after))
    return out


def _disabled_line(text: str, node: yaml.Node | None) -> tuple[str | None, int | None]:
    if not isinstance(node, yaml.MappingNode):
        return None, None
    for k, _v in document.entry(node, "disabled"):
        start, end = splice.line_bounds(text, k.start_mark.index)
        return text[start:end].strip(), document.line_of(text, k.start_mark.index)
    return None, None


def _unknown_message(unknown: list[str], names: list[str], paths: list[str]) -> str:
    parts = []
    for p in unknown:
        probe = re.sub(r"[*?\[\]]", "", p) if _has_magic(p) else p
        near = [n for n in names if probe and probe in n][:3] or difflib.get_close_matches(probe, names, n=3,
                                                                                          cutoff=0.5)
        hint = f"; nearest: {', '.join(near)}" if near else ""
        parts.append(f"no rule matches `{p}` in {', '.join(paths)}{hint}")
    if not names:
        parts.append("(the file has no rules)")
    return "\n".join(parts) + "\nNothing was written."
