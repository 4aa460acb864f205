"""Node-position splicing: the one way ecsched edits a YAML or JSON config file in place.

The file is composed into YAML nodes (positions only, values never constructed), and each edit is a
splice of the text at a node's position: every other byte (comments, key order, quoting, flow style,
blank lines, CRLF, a BOM) stays as it was. A full round trip (ruamel.yaml's dump) re-indents and
re-wraps, and cannot read a file whose template calls are not YAML yet (`X: {{ env "X" "Y" }}`).

The file is read by `document`. Callers check every edit by composing the result again (`same`),
before anything is written (`FileEdit.write`, atomic).
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from dataclasses import dataclass, field

import yaml

from ecsched.edit.document import Doc, entry, rules_node, scalar
from ecsched.errors import EcschedError

# The comment `disable --reason` appends to a line: removed with its entry.
OUR_COMMENT = re.compile(r"\s+#\s*paused \d{4}-\d{2}-\d{2}\b.*$")


# --- splices -------------------------------------------------------------------------------------


@dataclass
class Splice:
    start: int
    end: int
    text: str


def line_bounds(text: str, index: int) -> tuple[int, int]:
    """[start, end) of the line holding `index`, end excluding its newline."""
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    if end < 0:
        end = len(text)
    elif end > start and text[end - 1] == "\r":
        end -= 1
    return start, end


def newline_after(text: str, end: int) -> str:
    """The line break that ends the line at `end` ('' at EOF)."""
    if text.startswith("\r\n", end):
        return "\r\n"
    return "\n" if text.startswith("\n", end) else ""


def file_newline(text: str) -> str:
    i = text.find("\n")
    return "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"


def rest_is_comment(text: str, index: int) -> bool:
    """After `index`, the line holds only spaces or a comment."""
    _, end = line_bounds(text, index)
    rest = text[index:end].strip()
    return not rest or rest.startswith("#")


def one_line(text: str, v: yaml.Node) -> bool:
    """A plain or quoted scalar on one line."""
    return (isinstance(v, yaml.ScalarNode) and v.style in (None, "", "'", '"')  # libyaml: '' is plain
            and "\n" not in text[v.start_mark.index:v.end_mark.index])


def key_text(kind: str, key: str) -> str:
    return f'"{key}"' if kind == "json" else key


def replace_value(text: str, v: yaml.Node, literal: str) -> Splice:
    """The scalar `v` becomes `literal`, in the same quotes if it had some."""
    raw = text[v.start_mark.index:v.end_mark.index]
    if v.start_mark.index == v.end_mark.index:  # `key:` with no value: keep a space after the colon
        literal = " " + literal
    elif raw[:1] in ("'", '"'):
        literal = raw[0] + literal + raw[0]
    return Splice(v.start_mark.index, v.end_mark.index, literal)


def anchor(doc: Doc, node: yaml.MappingNode, keys: tuple[str, ...], what: str) -> tuple[yaml.Node, yaml.Node]:
    """The first one-line entry of `keys` in the mapping: a new entry goes after it."""
    flow = bool(node.flow_style)
    for key in keys:
        for k, v in entry(node, key):
            if one_line(doc.text, v) and (flow or rest_is_comment(doc.text, v.end_mark.index)):
                return k, v
    wanted = " or ".join(f"`{k}:`" for k in keys)
    raise EcschedError(f"{doc.path}:{node.start_mark.line + 1}: {what}: no one-line {wanted} to add the new "
                       "line after; edit it by hand")


def insert_entry(doc: Doc, node: yaml.MappingNode, after: tuple[yaml.Node, yaml.Node], entry_text: str,
                 comment: str | None, what: str) -> Splice:
    """`entry_text` (`key: value`) as a new entry of the mapping, after the entry `after`: on the next line
    at the same indentation (block style), or after a comma (flow style: `{name: a, key: value}`)."""
    text = doc.text
    k, v = after
    if node.flow_style:
        line_start, _ = line_bounds(text, k.start_mark.index)
        indent = text[line_start:k.start_mark.index]
        same_line = node.start_mark.line == node.end_mark.line or indent.strip()
        sep = ", " if same_line else "," + file_newline(text) + indent
        splice = Splice(v.end_mark.index, v.end_mark.index, sep + entry_text)
        if comment:
            # A comment inside a flow mapping must end its line: append it to the line we write on.
            _, end = line_bounds(text, v.end_mark.index)
            if "#" in text[v.end_mark.index:end]:
                raise EcschedError(f"{doc.path}:{k.start_mark.line + 1}: {what}: that line already has "
                                   "a comment; drop --reason, or edit by hand")
            splice = Splice(v.end_mark.index, end, sep + entry_text + text[v.end_mark.index:end] + f"  {comment}")
        return splice
    _, end = line_bounds(text, v.end_mark.index)
    nl = newline_after(text, end)
    line = " " * k.start_mark.column + entry_text + (f"  {comment}" if comment else "")
    if nl:
        at = end + len(nl)
        return Splice(at, at, line + nl)
    return Splice(end, end, file_newline(text) + line)  # the anchor is the last line, with no newline


def insert_before(doc: Doc, k: yaml.Node, entry_text: str) -> Splice:
    """`entry_text` as a line of its own before the block key `k`, above the comments that introduce it."""
    text = doc.text
    start, _ = line_bounds(text, k.start_mark.index)
    if text[start:k.start_mark.index].strip():
        raise EcschedError(f"{doc.path}:{k.start_mark.line + 1}: `{scalar(k)}:` does not start its line; "
                           "edit it by hand")
    while start > 0:
        prev, _ = line_bounds(text, start - 1)
        if not text[prev:start].lstrip().startswith("#"):
            break
        start = prev
    return Splice(start, start, " " * k.start_mark.column + entry_text + file_newline(text))


def remove_entry(doc: Doc, node: yaml.MappingNode, k: yaml.Node, v: yaml.Node, what: str) -> Splice:
    """The entry k: v out of the mapping: its whole line (block), or it and one comma (flow)."""
    text = doc.text
    ks, ve = k.start_mark.index, v.end_mark.index
    pairs = node.value
    pos = next(i for i, (kk, _) in enumerate(pairs) if kk is k)
    where = f"{doc.path}:{k.start_mark.line + 1}: {what}"
    if node.flow_style:
        if pos > 0:
            # From the end of the previous value: the exact inverse of insert_entry.
            start = pairs[pos - 1][1].end_mark.index
            if text[start:ks].strip() != ",":
                raise EcschedError(f"{where}: comments around `{scalar(k)}:`; edit it by hand")
            _, line_end = line_bounds(text, ve)
            tail = text[ve:line_end]
            m = OUR_COMMENT.search(tail) if "#" in tail else None
            if m:  # the --reason comment we appended to this line
                return Splice(start, line_end, tail[:m.start()])
            return Splice(start, ve, "")
        nxt = pairs[1][0].start_mark.index if len(pairs) > 1 else None
        if nxt is None or text[ve:nxt].strip() != ",":
            raise EcschedError(f"{where}: cannot remove `{scalar(k)}:` cleanly; edit it by hand")
        return Splice(ks, nxt, "")
    line_start, line_end = line_bounds(text, ve)
    if text[line_start:ks].strip():
        # `- disabled: true` opens the rule: remove up to the next key, which then follows the dash.
        if pos + 1 >= len(pairs):
            raise EcschedError(f"{where}: cannot remove `{scalar(k)}:` cleanly; edit it by hand")
        return Splice(ks, pairs[pos + 1][0].start_mark.index, "")
    k_line_start, _ = line_bounds(text, ks)
    nl = newline_after(text, line_end)
    if nl:
        return Splice(k_line_start, line_end + len(nl), "")
    # The last line, with no newline: take the newline before it, so the file ends as it did.
    cut = k_line_start - 1
    if cut > 0 and text[cut - 1] == "\r":
        cut -= 1
    return Splice(max(cut, 0), line_end, "")


def apply(text: str, splices: list[Splice]) -> str:
    out = text
    for s in sorted(splices, key=lambda s: s.start, reverse=True):
        out = out[:s.start] + s.text + out[s.end:]
    return out


# --- checking the result -------------------------------------------------------------------------


def same(a: yaml.Node, b: yaml.Node, skip: str | None = None) -> bool:
    """Two node trees read the same: same kinds, tags and scalar values (positions aside). `skip`: a key
    of the top mapping left out of the comparison (the one the edit changed)."""
    stack: list[tuple[yaml.Node, yaml.Node, str | None]] = [(a, b, skip)]
    seen: set[tuple[int, int]] = set()
    while stack:
        x, y, skip_key = stack.pop()
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
            if skip_key:
                xs = [p for p in xs if not (isinstance(p[0], yaml.ScalarNode) and p[0].value == skip_key)]
                ys = [p for p in ys if not (isinstance(p[0], yaml.ScalarNode) and p[0].value == skip_key)]
            if len(xs) != len(ys):
                return False
            for (xk, xv), (yk, yv) in zip(xs, ys, strict=True):
                stack += [(xk, yk, None), (xv, yv, None)]
        else:
            if len(xs) != len(ys):
                return False
            stack += [(xi, yi, None) for xi, yi in zip(xs, ys, strict=True)]
    return True


def same_outside_rules(old: yaml.Node | None, new: yaml.Node | None, path: str, skip: str | None = None) -> bool:
    """The top level reads the same apart from `rules:` (and `skip`), and `rules:` has as many items."""
    old_seq, new_seq = rules_node(path, old), rules_node(path, new)
    if not (isinstance(old, yaml.MappingNode) and isinstance(new, yaml.MappingNode)
            and old_seq is not None and new_seq is not None and len(old_seq.value) == len(new_seq.value)):
        return False
    top_old = [p for p in old.value if p[1] is not old_seq and not (skip and scalar(p[0]) == skip)]
    top_new = [p for p in new.value if p[1] is not new_seq and not (skip and scalar(p[0]) == skip)]
    return len(top_old) == len(top_new) and all(
        same(ok, nk) and same(ov, nv) for (ok, ov), (nk, nv) in zip(top_old, top_new, strict=True))


# --- whole files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleEdit:
    name: str
    line: int  # 1-based line of the edited entry, in the file after the edit (before it, if removed)
    before: str | None  # the line as it was; None when added
    after: str | None  # the line as it is now; None when removed


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
        """Atomically: a reader (or a crash) sees the old file or the new one, never half of each. The
        file keeps its mode."""
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
