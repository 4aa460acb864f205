"""Configuration: load files (YAML/JSON/Jsonnet + templates), validate offline, build the model.

    cfg = load(["ecsched.yaml"])          # raises ConfigError listing every problem
    schedules = cfg.schedules(account)    # canonical ecsched.model.Schedule objects
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecsched.arns import Account
from ecsched.config.loader import ConfigFile, LoadFailed, LoadOptions, load_file
from ecsched.errors import ConfigError, Problem
from ecsched.model import Schedule


@dataclass
class Config:
    files: list[ConfigFile]
    warnings: list[Problem] = field(default_factory=list)

    @property
    def region(self) -> str | None:
        for f in self.files:
            if f.data.get("region"):
                return str(f.data["region"])
        return None

    def setting(self, key: str) -> Any:
        """A top-level setting (lockTable, cluster...): the first file that sets it."""
        for f in self.files:
            if f.data.get(key) is not None:
                return f.data[key]
        return None

    def rule_names(self) -> list[str]:
        return [str(r["name"]) for f in self.files for r in f.data.get("rules") or []]

    def schedules(self, account: Account, default_region: str | None = None) -> list[Schedule]:
        from ecsched.config.build import build_file

        return [s for f in self.files for s in build_file(f, account, default_region)]


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """By file (in the order given), then line and column; stable, so a line's problems keep their order."""
    order = {f: i for i, f in enumerate(dict.fromkeys(p.file for p in problems))}
    return sorted(problems, key=lambda p: (order[p.file], p.line or 0, p.col or 0))


def expand_paths(paths: list[str]) -> list[str]:
    out: list[str] = []
    for p in paths:
        matches = sorted(glob.glob(p)) if glob.has_magic(p) else [p]
        if not matches:
            raise ConfigError([Problem(f"no file matches `{p}`", file=p)])
        out += [m for m in matches if m not in out]
    return out


def load(paths: list[str], *, ext_str: Mapping[str, str] | None = None, ext_code: Mapping[str, str] | None = None,
         aws_factory: Callable[..., Any] | None = None, environ: Mapping[str, str] | None = None,
         validate: bool = True, max_config_bytes: int | None = None) -> Config:
    from ecsched.config.validate import validate_file

    opts = LoadOptions(ext_str=ext_str or {}, ext_code=ext_code or {}, environ=environ, aws_factory=aws_factory,
                       max_config_bytes=max_config_bytes)
    errors: list[Problem] = []
    warnings: list[Problem] = []
    files: list[ConfigFile] = []
    for path in expand_paths(paths):
        try:
            f = load_file(path, opts)
        except LoadFailed as e:
            errors += e.problems
            continue
        files.append(f)
        errors += f.problems
        if validate:
            e2, w2 = validate_file(f)
            # A template problem leaves its line empty or wrong: what validation says there repeats it.
            errors += [p for p in e2 if p.line not in f.failed_lines] if f.failed_lines else e2
            warnings += w2
    seen: dict[str, ConfigFile] = {}
    for f in files:
        for i, r in enumerate(f.data.get("rules") or []):
            name = r.get("name") if isinstance(r, dict) else None
            if not isinstance(name, str):
                continue
            if name in seen and seen[name] is not f:
                errors.append(Problem(f"rule `{name}` is also defined in {seen[name].path}", rule=name,
                                      **f.where(("rules", i, "name"))))
            seen.setdefault(name, f)
    if errors:
        raise ConfigError(sort_problems(errors), sort_problems(warnings))
    return Config(files=files, warnings=sort_problems(warnings))
