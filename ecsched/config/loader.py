"""Read one config file into plain data, remembering where every value came from.

Formats follow ecschedule: `.jsonnet` is Jsonnet, `.json` is JSON, everything else is YAML. Template
calls (`{{ env ... }}`) are evaluated on the text first (after Jsonnet, as ecschedule does), then
the text is parsed. YAML is parsed into nodes so that each value keeps its line and column, and
duplicate keys are reported instead of silently keeping the last one.

Locations are computed only when something asks for one (a problem to report, a rule's source line):
on the happy path of a large file they are most of the parsing cost.
"""

from __future__ import annotations

import gc
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ecsched.config import template
from ecsched.errors import Problem

Path = tuple[str | int, ...]
Position = tuple[int, int]

try:  # the C composer is several times faster on large files
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


class _Yaml12Loader(_Loader):  # type: ignore[misc, valid-type]
    """Plain scalars typed as YAML 1.2 (core schema) reads them, as ecschedule's Go reader does.

    pyyaml follows YAML 1.1, where `on`, `yes`, `off` are booleans, `12:30` is 750 and `2026-04-01` a
    date: an environment value `FLAG: on` would reach the task as "true". Here they stay text.
    """


_Yaml12Loader.yaml_implicit_resolvers = {}
for _tag, _rx, _first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("tag:yaml.org,2002:float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                                r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+.0123456789"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
]:
    _Yaml12Loader.add_implicit_resolver(_tag, re.compile(_rx), list(_first))

# Files ecschedule users keep beside theirs: named in the hint when the default ecsched.yaml is missing.
_ECSCHEDULE_NAMES = ("ecschedule.yaml", "ecschedule.yml", "ecschedule.json", "ecschedule.jsonnet")


class Locations(dict[Path, Position]):
    """path -> (line, col), filled from `compute` on first use. A real dict, so callers index it."""

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
    # located by finding the key in the source instead (see `_guess`).
    source: str | None = None

    def where(self, path: Path) -> dict[str, Any]:
        """file/line/col for a Problem: the closest located ancestor of `path`."""
        p = tuple(path)
        while p and p not in self.locations:
            p = p[:-1]
        if p in self.locations:
            line, col = self.locations[p]
            return {"file": self.path, "line": line, "col": col}
        if self.source is not None:
            return {"file": self.path, **_guess(self.source, self.data, tuple(path))}
        return {"file": self.path, "line": None, "col": None}


def _guess(source: str, data: dict[str, Any], path: Path) -> dict[str, Any]:
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


@dataclass
class LoadOptions:
    ext_str: Mapping[str, str] = field(default_factory=dict)
    ext_code: Mapping[str, str] = field(default_factory=dict)
    environ: Mapping[str, str] | None = None
    # Plugins need AWS (tfstate in S3, ssm): a factory, so files without them never touch boto3.
    aws_factory: Callable[..., Any] | None = None


class LoadFailed(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


def _missing_hint(path: str) -> str:
    folder = os.path.dirname(path) or "."
    others = [n for n in _ECSCHEDULE_NAMES if os.path.isfile(os.path.join(folder, n))]
    if others and os.path.basename(path) not in _ECSCHEDULE_NAMES:
        return f" (found {others[0]} here: pass -c {os.path.join(os.path.dirname(path), others[0])})"
    return ""


def read_text(path: str) -> str:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise LoadFailed([Problem(f"no such file; pass the config with -c FILE{_missing_hint(path)}",
                                  file=path)]) from None
    except IsADirectoryError:
        raise LoadFailed([Problem("is a directory, not a config file", file=path)]) from None
    except OSError as e:
        raise LoadFailed([Problem(f"cannot read: {e.strerror}", file=path)]) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadFailed([Problem("is UTF-16 text; save it as UTF-8", file=path, line=1, col=1)])
    if b"\x00" in raw:
        at = raw.index(b"\x00")
        line = raw.count(b"\n", 0, at) + 1
        col = at - (raw.rfind(b"\n", 0, at) + 1) + 1
        raise LoadFailed([Problem("looks like a binary file (NUL bytes), not YAML/JSON/Jsonnet", file=path,
                                  line=line, col=col)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise LoadFailed([Problem(f"is not UTF-8 text (byte 0x{raw[e.start]:02x}); save it as UTF-8",
                                  file=path, line=line, col=col)]) from None
    if not text.strip():
        raise LoadFailed([Problem("the file is empty: it needs at least `rules:`", file=path, line=1, col=1)])
    return text


def load_file(path: str, opts: LoadOptions) -> ConfigFile:
    text = read_text(path)
    ext = os.path.splitext(path)[1].lower()
    source = None
    if ext == ".jsonnet":
        from ecsched.config import jsonnet

        source = text
        text = jsonnet.evaluate(path, text, opts)
    text = _expand_templates(path, text, ext, opts)
    if ext in (".json", ".jsonnet"):
        data, locations = _parse_json(path, text, located=source is None)
    else:
        data, locations = parse_yaml(path, text)
    if not isinstance(data, dict):
        what = "a list" if isinstance(data, list) else f"`{data}`"
        raise LoadFailed([Problem(f"the top level must be a mapping with `rules:`, not {what}",
                                  **_first_position(path, locations))])
    return ConfigFile(path=path, data=data, locations=locations, source=source)


def _first_position(path: str, locations: Mapping[Path, Position]) -> dict[str, Any]:
    line, col = locations.get((), (1, 1)) if locations else (1, 1)
    return {"file": path, "line": line, "col": col}


def _expand_templates(path: str, text: str, ext: str, opts: LoadOptions) -> str:
    if "{{" not in text:
        return text
    funcs = template.builtin_functions(opts.environ)
    if "plugins" in text:
        # Plugins are declared in the very file they serve: read `plugins:` from a lenient first pass.
        first, _ = template.render(text, funcs, file=path, lenient=True)
        try:
            pre = json.loads(first) if ext in (".json", ".jsonnet") else yaml.load(first, Loader=_Loader)
        except Exception:
            pre = None
        entries = pre.get("plugins") if isinstance(pre, dict) else None
        if entries:
            from ecsched.config import plugins

            region = pre.get("region") if isinstance(pre, dict) else None
            problems = plugins.setup(entries, funcs, config_path=path, aws_factory=opts.aws_factory,
                                     region=region if isinstance(region, str) else None, environ=opts.environ)
            if problems:
                raise LoadFailed(problems)
    rendered, problems = template.render(text, funcs, file=path)
    if problems:
        raise LoadFailed(problems)
    return rendered


# --- YAML with locations ---------------------------------------------------------------------


def _yaml_problem(path: str, e: yaml.YAMLError, text: str | None = None) -> Problem:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    msg = " ".join(str(x) for x in (getattr(e, "context", None), getattr(e, "problem", None)) if x) or str(e)
    line_text = ""
    if mark is not None and text is not None:
        lines = text.splitlines()
        line_text = lines[mark.line] if mark.line < len(lines) else ""
    # libyaml rarely names the tab it choked on: look at the line itself.
    indent = line_text[: len(line_text) - len(line_text.lstrip())]
    at = line_text[mark.column:mark.column + 1] if mark is not None else ""
    if "\\t" in msg or "tab" in msg or "\t" in indent or at == "\t":
        msg += " (YAML does not allow tabs for indentation: use spaces)"
    msg = f"YAML syntax error: {msg}"
    if mark is None:
        return Problem(msg, file=path)
    return Problem(msg, file=path, line=mark.line + 1, col=mark.column + 1)


def parse_yaml(path: str, text: str, *, reader: str = "YAML") -> tuple[Any, dict[Path, Position]]:
    """Data and its (lazy) locations. `reader` names the format in messages (JSON is parsed here too)."""
    # The composer allocates several objects per scalar; with the collector on, each generation-2 pass
    # rescans the growing tree, which makes a large file's parse about four times slower.
    collecting = gc.isenabled()
    gc.disable()
    try:
        node = yaml.compose(text, Loader=_Yaml12Loader)
        if node is None:
            raise LoadFailed([Problem("the file is empty: it needs at least `rules:`", file=path, line=1, col=1)])
        problems: list[Problem] = []
        data = _Walker(path, problems, reader=reader).walk(node, ())
    except yaml.YAMLError as e:
        raise LoadFailed([_yaml_problem(path, e, text)]) from None
    finally:
        if collecting:
            gc.enable()
    if problems:
        raise LoadFailed(problems)

    def locate() -> dict[Path, Position]:
        locs: dict[Path, Position] = {}
        collecting = gc.isenabled()
        gc.disable()  # as above: one tuple per path
        try:
            _Walker(path, [], locs).walk(node, ())
        finally:
            if collecting:
                gc.enable()
        return locs

    return data, Locations(locate)


_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


def _yaml12_int(text: str) -> int:
    """YAML 1.2 integers: decimal (a leading 0 does not make it octal), 0o octal, 0x hex."""
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)


class _Walker:
    """Nodes to plain data. With `locs`, also records where each path is (a second, lazy pass)."""

    def __init__(self, file: str, problems: list[Problem], locs: dict[Path, Position] | None = None,
                 reader: str = "YAML") -> None:
        self.file = file
        self.reader = reader
        self.problems = problems
        self.locs = locs
        self.ctor = yaml.constructor.SafeConstructor()
        self.as_written = False

    def _at(self, node: yaml.Node) -> dict[str, Any]:
        return {"file": self.file, "line": node.start_mark.line + 1, "col": node.start_mark.column + 1}

    def walk(self, node: yaml.Node, p: Path) -> Any:
        locs = self.locs
        if locs is not None:
            locs[p] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, p)
        if isinstance(node, yaml.SequenceNode):
            if locs is None:  # paths are only needed when recording where things are
                return [self.walk(v, p) for v in node.value]
            return [self.walk(v, (*p, i)) for i, v in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        tag, value = node.tag, node.value
        if tag == _STR:  # most scalars: skip the constructor's dispatch
            return value
        if self.as_written and isinstance(node, yaml.ScalarNode) and tag != _NULL:
            return value  # an environment value: `PY: 3.10` stays "3.10", not 3.1
        if isinstance(node, yaml.ScalarNode) and not node.style:  # plain, so typed by _Yaml12Loader
            if tag == _INT:
                return _yaml12_int(value)
            if tag == _BOOL:
                return value.lower() == "true"
            if tag == _NULL:
                return None
        try:
            return self.ctor.construct_object(node, deep=True)
        except yaml.YAMLError as e:
            self.problems.append(_yaml_problem(self.file, e))
            return None

    def _mapping(self, node: yaml.MappingNode, p: Path) -> dict[Any, Any]:
        locs = self.locs
        out: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for knode, vnode in node.value:
            if knode.tag == _MERGE:  # `<<: *base` — explicit keys win over merged ones
                sources = vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]
                for src in sources:
                    value = self.walk(src, p)
                    if isinstance(value, dict):
                        merged = {**value, **merged}
                continue
            if not isinstance(knode, yaml.ScalarNode):
                self.problems.append(Problem("keys must be plain scalars", **self._at(knode)))
                continue
            # Keys are text as written (`TRUE:`, `1.10:`, `on:`), as Go reads them into map[string]...
            key = knode.value if knode.tag == _STR or not knode.style else str(self._scalar(knode))
            if key in out:
                self.problems.append(Problem(f"duplicate key `{key}` (first at line {first_line[key]}); {self.reader} "
                                             "readers would silently keep only the last one", **self._at(knode)))
                continue
            first_line[key] = knode.start_mark.line + 1
            kp = (*p, key)
            if key == "environment" and isinstance(vnode, yaml.MappingNode):
                # Values become strings in the task, as Go reads them into map[string]string: as written.
                self.as_written = True
                try:
                    out[key] = self.walk(vnode, kp)
                finally:
                    self.as_written = False
            else:
                out[key] = self.walk(vnode, kp)
            if locs is not None:
                locs[kp] = (knode.start_mark.line + 1, knode.start_mark.column + 1)
        return {**merged, **out} if merged else out


# --- JSON ------------------------------------------------------------------------------------


def _parse_json(path: str, text: str, *, located: bool = True) -> tuple[Any, dict[Path, Position]]:
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
