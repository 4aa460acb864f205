"""Read one config file into plain data, remembering where every value came from.

Formats follow ecschedule: `.jsonnet` is Jsonnet, `.json` is JSON, everything else is YAML. Template
calls (`{{ env ... }}`) are evaluated on the text first (after Jsonnet, as ecschedule does), then
the text is parsed. YAML is parsed into nodes so that each value keeps its line and column, and
duplicate keys are reported instead of silently keeping the last one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ecsched.config import template
from ecsched.errors import Problem

Path = tuple[str | int, ...]

try:  # the C composer is several times faster on large files
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


@dataclass
class ConfigFile:
    path: str
    data: dict[str, Any]
    locations: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path) -> dict[str, Any]:
        """file/line/col for a Problem: the closest located ancestor of `path`."""
        p = tuple(path)
        while p and p not in self.locations:
            p = p[:-1]
        line, col = self.locations.get(p, (None, None))
        return {"file": self.path, "line": line, "col": col}


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


def read_text(path: str) -> str:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise LoadFailed([Problem("no such file; pass the config with -c FILE", file=path)]) from None
    except IsADirectoryError:
        raise LoadFailed([Problem("is a directory, not a config file", file=path)]) from None
    except OSError as e:
        raise LoadFailed([Problem(f"cannot read: {e.strerror}", file=path)]) from None
    if b"\x00" in raw:
        raise LoadFailed([Problem("looks like a binary file (NUL bytes), not YAML/JSON/Jsonnet", file=path, line=1)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise LoadFailed([Problem("is not UTF-8 text; save it as UTF-8", file=path, line=line)]) from None
    if not text.strip():
        raise LoadFailed([Problem("the file is empty: it needs at least `rules:`", file=path, line=1)])
    return text


def load_file(path: str, opts: LoadOptions) -> ConfigFile:
    text = read_text(path)
    ext = os.path.splitext(path)[1].lower()
    if ext == ".jsonnet":
        from ecsched.config import jsonnet

        text = jsonnet.evaluate(path, text, opts)
    text = _expand_templates(path, text, ext, opts)
    if ext in (".json", ".jsonnet"):
        data, locations = _parse_json(path, text)
    else:
        data, locations = parse_yaml(path, text)
    if not isinstance(data, dict):
        raise LoadFailed([Problem("the top level must be a mapping with `rules:`", file=path, line=1)])
    return ConfigFile(path=path, data=data, locations=locations)


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


def _yaml_problem(path: str, e: yaml.YAMLError) -> Problem:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    msg = " ".join(str(x) for x in (getattr(e, "context", None), getattr(e, "problem", None)) if x) or str(e)
    if "\\t" in msg or "'\\t'" in msg or "tab" in msg:
        msg += " (YAML does not allow tabs for indentation: use spaces)"
    msg = f"YAML syntax error: {msg}"
    if mark is None:
        return Problem(msg, file=path)
    return Problem(msg, file=path, line=mark.line + 1, col=mark.column + 1)


def parse_yaml(path: str, text: str) -> tuple[Any, dict[Path, tuple[int, int]]]:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as e:
        raise LoadFailed([_yaml_problem(path, e)]) from None
    if node is None:
        raise LoadFailed([Problem("the file is empty: it needs at least `rules:`", file=path, line=1)])
    locations: dict[Path, tuple[int, int]] = {}
    problems: list[Problem] = []
    ctor = yaml.constructor.SafeConstructor()
    data = _walk(node, (), locations, problems, ctor, path)
    if problems:
        raise LoadFailed(problems)
    return data, locations


_MERGE = "tag:yaml.org,2002:merge"


def _walk(node: yaml.Node, p: Path, locs: dict[Path, tuple[int, int]], problems: list[Problem],
          ctor: yaml.constructor.SafeConstructor, file: str) -> Any:
    locs[p] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for knode, vnode in node.value:
            if knode.tag == _MERGE:  # `<<: *base` — explicit keys win over merged ones
                sources = vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]
                for src in sources:
                    value = _walk(src, p, locs, problems, ctor, file)
                    if isinstance(value, dict):
                        merged = {**value, **merged}
                continue
            key = ctor.construct_object(knode) if isinstance(knode, yaml.ScalarNode) else None
            if isinstance(key, float | bool):
                key = str(key).lower() if isinstance(key, bool) else str(key)
            if not isinstance(key, str | int):
                problems.append(Problem("keys must be plain scalars", file=file,
                                        line=knode.start_mark.line + 1, col=knode.start_mark.column + 1))
                continue
            if key in out:
                first = locs[(*p, key)][0] if (*p, key) in locs else None
                problems.append(Problem(f"duplicate key `{key}` (first at line {first}); YAML would silently "
                                        "keep only the last one", file=file,
                                        line=knode.start_mark.line + 1, col=knode.start_mark.column + 1))
                continue
            out[key] = _walk(vnode, (*p, key), locs, problems, ctor, file)
            locs[(*p, key)] = (knode.start_mark.line + 1, knode.start_mark.column + 1)
        return {**merged, **out}
    if isinstance(node, yaml.SequenceNode):
        return [_walk(v, (*p, i), locs, problems, ctor, file) for i, v in enumerate(node.value)]
    try:
        return ctor.construct_object(node, deep=True)
    except yaml.YAMLError as e:
        problems.append(_yaml_problem(file, e))
        return None


# --- JSON ------------------------------------------------------------------------------------


def _parse_json(path: str, text: str) -> tuple[Any, dict[Path, tuple[int, int]]]:
    def no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise LoadFailed([Problem(f"duplicate key `{k}`; JSON readers would silently keep only the last one",
                                          file=path)])
            out[k] = v
        return out

    try:
        data = json.loads(text, object_pairs_hook=no_dupes)
    except json.JSONDecodeError as e:
        raise LoadFailed([Problem(f"JSON syntax error: {e.msg}", file=path, line=e.lineno, col=e.colno)]) from None
    except LoadFailed as e:
        # Locate the duplicate through the YAML reader, which knows lines.
        try:
            parse_yaml(path, text.replace("\t", " "))
        except LoadFailed as located:
            raise located from None
        raise e from None
    # JSON is (nearly) YAML: compose it once more just for line numbers. Jsonnet output has none
    # worth reporting (it is generated), but harmless.
    try:
        _, locations = parse_yaml(path, text.replace("\t", " "))
    except LoadFailed:
        locations = {}
    return data, locations
