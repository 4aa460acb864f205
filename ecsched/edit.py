"""Round-trip edits of a config file: add, change or remove one rule's `disabled:` and nothing else.

The edit is surgical on the text, located through the parsed structure: every other byte of the file
(comments, key order, quoting, flow lists, blank lines, CRLF, a BOM) stays as it was, and `enable` right
after `disable` gives back the original bytes. A full YAML round trip (ruamel.yaml's dump) re-indents
and re-wraps in places, and cannot read a file whose template calls are not YAML yet
(`HOGE_ENV: {{ env "X" "Y" }}`), so it is not used.

Template calls are first masked with underscores of the same length, newlines kept, so the masked text
parses and every position in it is a position in the file. Every edit is checked by parsing the result
again: the named rules must be paused/resumed as asked and everything else must load the same.

Conventions, so that the round trip holds: a paused rule has `disabled: true`, a running rule has no
`disabled:` line. `disable` adds the line after `scheduleExpression:` (else after `name:`), or turns
an existing `disabled: false` into `true`; `enable` removes it (or writes `disabled: false` when the
rule would otherwise inherit `disabled: true` through a YAML merge key).
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from ecsched.errors import EcschedError

_ACTION = re.compile(r"\{\{.*?\}\}", re.S)
# libyaml's marks count characters, as the pure-Python loader's do (checked with CRLF and non-BMP text),
# and it is several times faster on big files.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OUR_COMMENT = re.compile(r"\s+#\s*paused \d{4}-\d{2}-\d{2}\b.*$")
_ANCHOR_KEYS = ("scheduleExpression", "name")

# path -> the rule names of that file as loaded (templates evaluated, Jsonnet run), in order.
Resolver = Callable[[str], list[str]]


def _mask(text: str) -> str:
    """Template calls -> underscores of the same length (newlines kept): positions do not move."""
    return _ACTION.sub(lambda m: re.sub(r"[^\n]", "_", m.group()), text)


def kind_of(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return {".json": "json", ".jsonnet": "jsonnet"}.get(ext, "yaml")


def reason_comment(reason: str, today: date) -> str:
    text = " ".join(reason.split())  # one line: a newline would end the comment
    return f"# paused {today.isoformat()}: {text}" if text else f"# paused {today.isoformat()}"


# --- locating rules ------------------------------------------------------------------------------


@dataclass
class _Rule:
    index: int
    node: yaml.MappingNode | None  # None: the item is not a mapping
    literal: str | None  # the name as written; None when it is a template call
    shared: bool = False  # the node is reused through an anchor/alias/merge


@dataclass
class _Doc:
    path: str
    text: str  # without BOM
    bom: bool
    kind: str
    rules: list[_Rule] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # resolved, same order as rules
    root: yaml.Node | None = None  # the masked text's node tree


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _parse(path: str, text: str, kind: str) -> yaml.Node | None:
    """The node tree of the masked text: positions only. Values are never constructed (slow on big files,
    and constructing merges `<<:` entries into the nodes in place)."""
    masked = _mask(text)
    if kind == "json":
        masked = masked.replace("\t", " ")  # JSON allows tab indentation, YAML does not; same length
    try:
        return yaml.compose(masked, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        raise EcschedError(f"{where}: cannot locate the rules to edit: {getattr(e, 'problem', None) or e}; "
                           "fix the file (`ecsched validate`) or edit `disabled:` by hand") from None


def _truthy(node: yaml.Node) -> bool:
    """`disabled:` as the loader reads it: anything truthy pauses."""
    if isinstance(node, yaml.ScalarNode):
        return bool(yaml.constructor.SafeConstructor().construct_object(node))  # type: ignore[no-untyped-call]
    return bool(node.value)


def _disabled_now(node: yaml.MappingNode) -> bool:
    own = _entry(node, "disabled")
    return _truthy(own[-1][1]) if own else _inherited(node)


def _read(path: str) -> tuple[str, bool]:
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


def _entry(node: yaml.MappingNode, key: str) -> list[tuple[yaml.Node, yaml.Node]]:
    return [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key]


def _rules_node(path: str, root: yaml.Node | None) -> yaml.SequenceNode | None:
    if not isinstance(root, yaml.MappingNode):
        raise EcschedError(f"{path}: the top level must be a mapping with `rules:`")
    found = _entry(root, "rules")
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


def _load_doc(path: str) -> _Doc:
    text, bom = _read(path)
    doc = _Doc(path=path, text=text, bom=bom, kind=kind_of(path))
    if doc.kind == "jsonnet":
        return doc
    root = doc.root = _parse(path, text, doc.kind)
    seq = _rules_node(path, root)
    if seq is None:
        return doc
    counts = _count_nodes(root) if root is not None else {}
    for i, item in enumerate(seq.value):
        if not isinstance(item, yaml.MappingNode):
            doc.rules.append(_Rule(i, None, None))
            continue
        literal = None
        names = _entry(item, "name")
        if names and isinstance(names[-1][1], yaml.ScalarNode):
            v = names[-1][1]
            raw = text[v.start_mark.index:v.end_mark.index]
            literal = None if "{{" in raw else str(v.value)
        doc.rules.append(_Rule(i, item, literal, shared=counts.get(id(item), 0) > 1))
    return doc


# --- the edit of one rule ------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleEdit:
    name: str
    line: int  # 1-based line of the `disabled:` entry, in the file after the edit (before it, if removed)
    before: str | None  # the line as it was; None when added
    after: str | None  # the line as it is now; None when removed


@dataclass
class _Splice:
    start: int
    end: int
    text: str


def _line_bounds(text: str, index: int) -> tuple[int, int]:
    """[start, end) of the line holding `index`, end excluding its newline."""
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    if end < 0:
        end = len(text)
    elif end > start and text[end - 1] == "\r":
        end -= 1
    return start, end


def _newline_after(text: str, end: int) -> str:
    """The line break that ends the line at `end` ('' at EOF)."""
    if text.startswith("\r\n", end):
        return "\r\n"
    return "\n" if text.startswith("\n", end) else ""


def _file_newline(text: str) -> str:
    i = text.find("\n")
    return "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"


def _rest_is_comment(text: str, index: int) -> bool:
    """After `index`, the line holds only spaces or a comment."""
    _, end = _line_bounds(text, index)
    rest = text[index:end].strip()
    return not rest or rest.startswith("#")


def _scalar_one_line(text: str, v: yaml.Node) -> bool:
    return (isinstance(v, yaml.ScalarNode) and v.style in (None, "", "'", '"')  # libyaml: '' is plain
            and "\n" not in text[v.start_mark.index:v.end_mark.index])


def _with_comment(text: str, value_end: int, comment: str | None, flow: bool = False) -> _Splice | None:
    """Replace the comment after a block value (to the end of its line) by `comment`. In a flow mapping
    the rest of the line is more of the mapping: the comment is appended to the line instead."""
    if comment is None:
        return None
    _, end = _line_bounds(text, value_end)
    if flow:
        if "#" in text[value_end:end]:
            raise EcschedError("that line already has a comment; drop --reason, or edit `disabled:` by hand")
        return _Splice(end, end, f"  {comment}")
    return _Splice(value_end, end, f"  {comment}")


def _value_literal(kind: str, value: bool) -> str:
    return "true" if value else "false"


def _key_literal(kind: str) -> str:
    return '"disabled"' if kind == "json" else "disabled"


def _plan_rule(doc: _Doc, rule: _Rule, name: str, want_disabled: bool, inherited: bool, current: bool,
               comment: str | None) -> list[_Splice] | None:
    """The splices that make rule `name` paused (want_disabled) or running. None: already so."""
    text, node, kind = doc.text, rule.node, doc.kind
    assert node is not None
    entries = _entry(node, "disabled")
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
        if not _scalar_one_line(text, v) or (not flow and not _rest_is_comment(text, v.end_mark.index)):
            raise EcschedError(f"{where}: `disabled:` is not a one-line value; set it by hand")
    if current == want_disabled and not (want_disabled and comment and entries and not flow and kind != "json"):
        return None
    if current == want_disabled:
        # Already paused, but a new reason: just the comment.
        v = entries[0][1]
        return [s for s in [_with_comment(text, v.end_mark.index, comment)] if s]
    if entries:
        k, v = entries[0]
        if not want_disabled and not inherited:
            return [_remove_entry(doc, node, k, v, name)]
        literal = _value_literal(kind, want_disabled)
        if v.start_mark.index == v.end_mark.index:  # `disabled:` with no value: keep a space after the colon
            literal = " " + literal
        splices = [_Splice(v.start_mark.index, v.end_mark.index, literal)]
        if want_disabled:
            c = _with_comment(text, v.end_mark.index, comment, flow)
            splices += [c] if c else []
        return splices
    # No own entry: add one.
    return [_insert_entry(doc, node, name, want_disabled, comment)]


def _anchor(doc: _Doc, node: yaml.MappingNode, name: str) -> tuple[yaml.Node, yaml.Node]:
    """The entry after which a new `disabled:` goes."""
    flow = bool(node.flow_style)
    for key in _ANCHOR_KEYS:
        for k, v in _entry(node, key):
            if _scalar_one_line(doc.text, v) and (flow or _rest_is_comment(doc.text, v.end_mark.index)):
                return k, v
    raise EcschedError(f"{doc.path}:{node.start_mark.line + 1}: rule {name}: no one-line `scheduleExpression:` "
                       "or `name:` to add `disabled: true` after; add it by hand")


def _insert_entry(doc: _Doc, node: yaml.MappingNode, name: str, value: bool, comment: str | None) -> _Splice:
    text, kind = doc.text, doc.kind
    k, v = _anchor(doc, node, name)
    entry = f"{_key_literal(kind)}: {_value_literal(kind, value)}"
    if node.flow_style:
        line_start, _ = _line_bounds(text, k.start_mark.index)
        indent = text[line_start:k.start_mark.index]
        same_line = node.start_mark.line == node.end_mark.line or indent.strip()
        sep = ", " if same_line else "," + _file_newline(text) + indent
        splice = _Splice(v.end_mark.index, v.end_mark.index, sep + entry)
        if comment:
            # A comment inside a flow mapping must end its line: append it to the line we write on.
            _, end = _line_bounds(text, v.end_mark.index)
            if "#" in text[v.end_mark.index:end]:
                raise EcschedError(f"{doc.path}:{k.start_mark.line + 1}: rule {name}: that line already has "
                                   "a comment; drop --reason, or add `disabled: true` by hand")
            splice = _Splice(v.end_mark.index, end, sep + entry + text[v.end_mark.index:end] + f"  {comment}")
        return splice
    _, end = _line_bounds(text, v.end_mark.index)
    nl = _newline_after(text, end)
    line = " " * k.start_mark.column + entry + (f"  {comment}" if comment else "")
    if nl:
        after = end + len(nl)
        return _Splice(after, after, line + nl)
    return _Splice(end, end, _file_newline(text) + line)  # the anchor is the last line, with no newline


def _remove_entry(doc: _Doc, node: yaml.MappingNode, k: yaml.Node, v: yaml.Node, name: str) -> _Splice:
    text = doc.text
    ks, ve = k.start_mark.index, v.end_mark.index
    pairs = node.value
    pos = next(i for i, (kk, _) in enumerate(pairs) if kk is k)
    where = f"{doc.path}:{k.start_mark.line + 1}: rule {name}"
    if node.flow_style:
        if pos > 0:
            # From the end of the previous value: the exact inverse of _insert_entry.
            start = pairs[pos - 1][1].end_mark.index
            gap = text[start:ks]
            if gap.strip() != ",":
                raise EcschedError(f"{where}: comments around `disabled:`; remove it by hand")
            _, line_end = _line_bounds(text, ve)
            tail = text[ve:line_end]
            m = _OUR_COMMENT.search(tail) if "#" in tail else None
            if m:  # the --reason comment we appended to this line
                return _Splice(start, line_end, tail[:m.start()])
            return _Splice(start, ve, "")
        nxt = pairs[1][0].start_mark.index if len(pairs) > 1 else None
        if nxt is None or text[ve:nxt].strip() != ",":
            raise EcschedError(f"{where}: cannot remove `disabled:` cleanly; remove it by hand")
        return _Splice(ks, nxt, "")
    line_start, line_end = _line_bounds(text, ve)
    if text[line_start:ks].strip():
        # `- disabled: true` opens the rule: remove up to the next key, which then follows the dash.
        if pos + 1 >= len(pairs):
            raise EcschedError(f"{where}: cannot remove `disabled:` cleanly; remove it by hand")
        return _Splice(ks, pairs[pos + 1][0].start_mark.index, "")
    k_line_start, _ = _line_bounds(text, ks)
    nl = _newline_after(text, line_end)
    if nl:
        return _Splice(k_line_start, line_end + len(nl), "")
    # The last line, with no newline: take the newline before it, so the file ends as it did.
    cut = k_line_start - 1
    if cut > 0 and text[cut - 1] == "\r":
        cut -= 1
    return _Splice(max(cut, 0), line_end, "")


def _apply(text: str, splices: list[_Splice]) -> str:
    out = text
    for s in sorted(splices, key=lambda s: s.start, reverse=True):
        out = out[:s.start] + s.text + out[s.end:]
    return out


# --- whole files ---------------------------------------------------------------------------------


@dataclass
class FileEdit:
    path: str
    old: str
    new: str
    bom: bool
    edits: list[RuleEdit] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # named rules already as asked

    @property
    def changed(self) -> bool:
        return self.new != self.old

    def diff(self) -> str:
        return "".join(difflib.unified_diff(self.old.splitlines(True), self.new.splitlines(True),
                                            self.path, self.path))

    def write(self) -> None:
        """Atomically: a reader (or a crash) sees the old file or the new one, never half of each."""
        data = (b"\xef\xbb\xbf" if self.bom else b"") + self.new.encode("utf-8")
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(prefix=".ecsched-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            try:
                os.chmod(tmp, os.stat(self.path).st_mode & 0o7777)
            except OSError:
                pass
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


def _inherited(node: yaml.MappingNode) -> bool:
    """The value `disabled` would have without the rule's own entry: truthy only through `<<:`."""
    for k, m in node.value:
        if not (isinstance(k, yaml.ScalarNode) and k.tag == "tag:yaml.org,2002:merge"):
            continue
        # The first merge source that sets it wins, as in YAML.
        for src in m.value if isinstance(m, yaml.SequenceNode) else [m]:
            if isinstance(src, yaml.MappingNode):
                own = _entry(src, "disabled")
                if own:
                    return _truthy(own[-1][1])
                if _inherited(src):
                    return True
    return False


def _jsonnet_refusal(doc: _Doc, names: list[str], want_disabled: bool) -> EcschedError:
    lines = doc.text.splitlines()
    out = [f"{doc.path} is Jsonnet, which ecsched does not rewrite (its output is computed). Make this change by hand:"]
    for name in names:
        where = next((i for i, ln in enumerate(lines) if re.search(rf"""["']{re.escape(name)}["']""", ln)), None)
        if where is None:
            out.append(f"  in rule {name}: " + ("add `disabled: true,`" if want_disabled else "remove its `disabled:`"))
            continue
        quoted = '"disabled"' if re.search(r'"name"\s*:', lines[where]) else "disabled"
        if want_disabled:
            out.append(f"  {doc.path}:{where + 1}: in rule {name}, after the line `{lines[where].strip()}` "
                       f"add the line `{quoted}: true,`")
            continue
        dis = next((j for j in range(where, min(where + 80, len(lines)))
                    if re.match(r"""\s*["']?disabled["']?\s*:""", lines[j])), None)
        if dis is not None:
            out.append(f"  {doc.path}:{dis + 1}: in rule {name}, delete the line `{lines[dis].strip()}`")
        else:
            out.append(f"  {doc.path}:{where + 1}: in rule {name}, remove its `disabled:` (or make it evaluate "
                       "to false)")
    return EcschedError("\n".join(out))


def _same(a: yaml.Node, b: yaml.Node, skip_disabled: bool = False) -> bool:
    """Two node trees read the same: same kinds, tags and scalar values (positions aside)."""
    stack = [(a, b, skip_disabled)]
    seen: set[tuple[int, int]] = set()
    while stack:
        x, y, skip = stack.pop()
        if (id(x), id(y)) in seen:
            continue  # an alias: compared once
        seen.add((id(x), id(y)))
        if type(x) is not type(y) or x.tag != y.tag:
            return False
        if isinstance(x, yaml.ScalarNode):
            if x.value != y.value:
                return False
            continue
        xs, ys = list(x.value), list(y.value)
        if isinstance(x, yaml.MappingNode):
            if skip:
                xs = [p for p in xs if not (isinstance(p[0], yaml.ScalarNode) and p[0].value == "disabled")]
                ys = [p for p in ys if not (isinstance(p[0], yaml.ScalarNode) and p[0].value == "disabled")]
            if len(xs) != len(ys):
                return False
            for (xk, xv), (yk, yv) in zip(xs, ys, strict=True):
                stack += [(xk, yk, False), (xv, yv, False)]
        else:
            if len(xs) != len(ys):
                return False
            stack += [(xi, yi, False) for xi, yi in zip(xs, ys, strict=True)]
    return True


def _verify(doc: _Doc, old_root: yaml.Node | None, new: str, targets: dict[int, bool]) -> yaml.Node | None:
    """The edit must read as intended: those rules paused/running as asked, every other value the same
    (the edited rules' other keys too). Returns the edited file's node tree."""
    try:
        root = _parse(doc.path, new, doc.kind)
    except EcschedError as e:
        raise EcschedError(f"{doc.path}: the edit would not parse ({e}); nothing was written: "
                           "please report this, and edit by hand") from None
    old_seq, new_seq = _rules_node(doc.path, old_root), _rules_node(doc.path, root)
    ok = (isinstance(old_root, yaml.MappingNode) and isinstance(root, yaml.MappingNode)
          and old_seq is not None and new_seq is not None and len(old_seq.value) == len(new_seq.value))
    if ok:
        assert isinstance(old_root, yaml.MappingNode) and isinstance(root, yaml.MappingNode)
        assert old_seq is not None and new_seq is not None
        top_old = [p for p in old_root.value if p[1] is not old_seq]
        top_new = [p for p in root.value if p[1] is not new_seq]
        ok = len(top_old) == len(top_new) and all(
            _same(ok_, nk) and _same(ov, nv) for (ok_, ov), (nk, nv) in zip(top_old, top_new, strict=True))
    for i, (b, a) in enumerate(zip(old_seq.value if old_seq else [], new_seq.value if new_seq else [],
                                   strict=False)):
        if not ok:
            break
        if i in targets:
            ok = isinstance(a, yaml.MappingNode) and _disabled_now(a) == targets[i] and _same(b, a, True)
        else:
            ok = _same(b, a)
    if not ok:
        raise EcschedError(f"{doc.path}: the edit did not read back as intended; nothing was written: please "
                           "report this, and edit `disabled:` by hand")
    return root


def set_disabled(paths: list[str], patterns: list[str], disabled: bool, *, reason: str | None = None,
                 today: date | None = None, resolve: Resolver | None = None) -> list[FileEdit]:
    """Plan the edits that pause (`disabled`) or resume the rules matching `patterns` (globs) in
    `paths`. Nothing is written: call `FileEdit.write()`. Raises EcschedError, with nothing planned,
    when a name matches no rule (listing the nearest) or a file cannot be edited safely."""
    docs = [_load_doc(p) for p in paths]
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
            raise _jsonnet_refusal(d, [d.names[i] for i in hits], disabled)
        if comment and d.kind == "json":
            raise EcschedError(f"{d.path}: JSON has no comments, so --reason cannot be kept there; leave out "
                               "--reason and give the reason in the pull request")
        splices: list[_Splice] = []
        fe = FileEdit(path=d.path, old=d.text, new=d.text, bom=d.bom)
        targets: dict[int, bool] = {}
        for i in hits:
            rule, name = d.rules[i], d.names[i]
            if rule.node is None:
                raise EcschedError(f"{d.path}: rule #{i + 1} is not a mapping; fix the file first")
            if rule.shared:
                raise EcschedError(f"{d.path}:{rule.node.start_mark.line + 1}: rule {name} is shared through a YAML "
                                   "anchor (&/*/<<); editing it would change every use: edit by hand")
            current = _disabled_now(rule.node)
            inherited = _inherited(rule.node)
            got = _plan_rule(d, rule, name, disabled, inherited, current, comment)
            if got is None:
                fe.unchanged.append(name)
                continue
            splices += got
            targets[i] = disabled
        fe.new = _apply(d.text, splices)
        if fe.changed:
            new_root = _verify(d, d.root, fe.new, targets)
            fe.edits = _describe_edits(d, fe.new, new_root, sorted(targets))
        out.append(fe)
    return out


def _has_magic(p: str) -> bool:
    return any(c in p for c in "*?[")


def _describe_edits(d: _Doc, new: str, new_root: yaml.Node | None, indexes: list[int]) -> list[RuleEdit]:
    """Which `disabled:` line each edited rule gained, changed or lost, read back from the result."""
    seq = _rules_node(d.path, new_root)
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
    for k, _v in _entry(node, "disabled"):
        start, end = _line_bounds(text, k.start_mark.index)
        return text[start:end].strip(), _line_of(text, k.start_mark.index)
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
