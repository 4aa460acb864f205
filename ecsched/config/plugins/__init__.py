"""Template plugins, declared in the config's `plugins:` list as ecschedule declares them.

A plugin module provides `setup(config: dict, funcs: Functions, prefix: str, ctx: PluginContext) -> None`
and registers its template functions (`tfstate`, `tfstatef`, `ssm`, ...) under `prefix + name` with
`funcs.register(name, fn, origin=...)`, and its Jsonnet natives with `funcs.register_native(...)`.
Setup must be cheap: anything slow (reading a state, calling AWS) happens on the first call.
A function raises `TemplateError` for a failure the user can fix; its message is shown with the line.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecsched.config.functions import Functions
from ecsched.errors import Problem

KNOWN = ("tfstate", "ssm")
_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+-\d+")


@dataclass
class PluginContext:
    config_path: str
    aws_factory: Callable[..., Any] | None
    # The file's top-level `region:` (when it has one): the region AWS clients default to.
    region: str | None = None
    environ: Mapping[str, str] | None = None
    _aws: Any = field(default=None, repr=False)

    def resolve_path(self, path: str) -> str:
        """Relative to the config file's folder; else the working directory (ecschedule's behaviour)."""
        if os.path.isabs(path):
            return path
        beside = os.path.join(os.path.dirname(os.path.abspath(self.config_path)), path)
        return beside if os.path.exists(beside) else path

    def candidates(self, path: str) -> list[str]:
        """Where `resolve_path` looks, for error messages."""
        if os.path.isabs(path):
            return [path]
        beside = os.path.join(os.path.dirname(os.path.abspath(self.config_path)), path)
        return list(dict.fromkeys([beside, os.path.abspath(path)]))

    @property
    def env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    def aws(self) -> Any:
        """The run's `ecsched.aws.Aws` (boto3 is imported only now)."""
        if self._aws is None:
            if self.aws_factory is not None:
                self._aws = self.aws_factory(self.region) if self.region else self.aws_factory()
            else:
                from ecsched.aws import Aws

                self._aws = Aws(region=self.region)
        return self._aws


def setup(entries: Any, funcs: Functions, *, config_path: str, aws_factory: Callable[..., Any] | None,
          region: str | None = None, environ: Mapping[str, str] | None = None) -> list[Problem]:
    if not isinstance(entries, list):
        return [Problem("`plugins` must be a list of {name, config, func_prefix}", **_where(config_path, None))]
    # A region computed by a template that failed in the lenient first pass reads as a placeholder.
    if not (isinstance(region, str) and _REGION.fullmatch(region)):
        region = None
    ctx = PluginContext(config_path=config_path, aws_factory=aws_factory, region=region, environ=environ)
    problems: list[Problem] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(Problem(f"plugins[{i}] needs a `name` ({' or '.join(KNOWN)})",
                                    **_where(config_path, None)))
            continue
        name = entry["name"]
        where = _where(config_path, name)
        if name.lower() not in KNOWN:
            near = difflib.get_close_matches(name.lower(), KNOWN, n=1, cutoff=0.5)
            hint = f"; did you mean `{near[0]}`?" if near else ""
            problems.append(Problem(f"unknown plugin `{name}`{hint} (known plugins: {', '.join(KNOWN)})", **where))
            continue
        config = entry.get("config")
        prefix = entry.get("func_prefix")
        if config is not None and not isinstance(config, dict):
            problems.append(Problem(f"plugin `{name}`: `config` must be a mapping", **where))
            continue
        if prefix is not None and not isinstance(prefix, str):
            problems.append(Problem(f"plugin `{name}`: `func_prefix` must be a string", **where))
            continue
        module = importlib.import_module(f"ecsched.config.plugins.{name.lower()}")
        try:
            module.setup(config or {}, funcs, prefix or "", ctx)
        except Exception as e:
            problems.append(Problem(f"plugin `{name}`: {e}", **where))
    return problems


def _where(config_path: str, name: str | None) -> dict[str, Any]:
    """The line of `name: NAME` in the plugins list (else of `plugins`), read from the file as written."""
    try:
        with open(config_path, encoding="utf-8-sig") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return {"file": config_path}
    key = re.search(r"""^[ \t{]*["']?plugins["']?\s*:""", text, re.MULTILINE)
    start = key.start() if key else 0
    if name is not None:
        entry = re.compile(r"""\bname["']?\s*:\s*(["']?)%s\1(?![\w.-])""" % re.escape(name))
        m = entry.search(text, start) or entry.search(text)
        if m:
            return {"file": config_path, "line": text.count("\n", 0, m.start()) + 1,
                    "col": m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1}
    if key:
        return {"file": config_path, "line": text.count("\n", 0, key.start()) + 1, "col": 1}
    return {"file": config_path}
