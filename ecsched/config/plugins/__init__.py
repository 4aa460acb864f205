"""Template plugins, declared in the config's `plugins:` list as ecschedule declares them.

A plugin module provides `setup(config: dict, funcs: Functions, prefix: str, ctx: PluginContext) -> None`
and registers its template functions (`tfstate`, `tfstatef`, `ssm`, ...) under `prefix + name`.
"""

from __future__ import annotations

import difflib
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecsched.config.template import Functions
from ecsched.errors import Problem

KNOWN = ("tfstate", "ssm")


@dataclass
class PluginContext:
    config_path: str
    aws_factory: Callable[..., Any] | None

    def resolve_path(self, path: str) -> str:
        """Relative to the config file's folder; else the working directory (ecschedule's behaviour)."""
        if os.path.isabs(path):
            return path
        beside = os.path.join(os.path.dirname(os.path.abspath(self.config_path)), path)
        return beside if os.path.exists(beside) else path


def setup(entries: Any, funcs: Functions, *, config_path: str,
          aws_factory: Callable[..., Any] | None) -> list[Problem]:
    if not isinstance(entries, list):
        return [Problem("`plugins` must be a list of {name, config, func_prefix}", file=config_path)]
    ctx = PluginContext(config_path=config_path, aws_factory=aws_factory)
    problems: list[Problem] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(Problem(f"plugins[{i}] needs a `name`", file=config_path))
            continue
        name = entry["name"]
        if name not in KNOWN:
            near = difflib.get_close_matches(name, KNOWN, n=1)
            hint = f"; did you mean `{near[0]}`?" if near else f"; known plugins: {', '.join(KNOWN)}"
            problems.append(Problem(f"unknown plugin `{name}`{hint}", file=config_path))
            continue
        module = importlib.import_module(f"ecsched.config.plugins.{name}")
        try:
            module.setup(entry.get("config") or {}, funcs, str(entry.get("func_prefix") or ""), ctx)
        except Exception as e:
            problems.append(Problem(f"plugin `{name}`: {e}", file=config_path))
    return problems
