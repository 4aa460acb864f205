"""Offline validation: the schema (config/schema.py, through jsonschema), then AWS's limits that need
computing (config/limits.py), then the file-wide checks. Every problem is reported, each located at
its file, line and rule.
"""

from __future__ import annotations

from typing import Any

from ecsched.config import limits, messages
from ecsched.config.file import ConfigFile
from ecsched.config.schema import SchemaError, schema, schema_errors, validator
from ecsched.errors import Problem

__all__ = ["SchemaError", "compiled", "schema", "schema_errors", "validate_file"]


def compiled() -> Any:
    """The cached validator (built on first use)."""
    return validator()


# The name bench/bench_validate.py calls.
_check_rule = limits.check_rule


def _line(p: Problem) -> tuple[int, int]:
    return (p.line or 0, p.col or 0)


def validate_file(f: ConfigFile) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) for one loaded file, each in file order."""
    errors, warnings = messages.problems(f, schema_errors(f.data), sorted(schema()["properties"]))
    rules = f.data.get("rules") or []
    if not isinstance(rules, list):
        return errors, warnings
    if not rules and "rules" in f.data:
        warnings.append(Problem("no rules: the file declares nothing to schedule", **f.where(("rules",))))
    top = f.data
    seen: dict[str, int] = {}
    for i, r in enumerate(rules):
        if not isinstance(r, dict):
            continue
        name = r.get("name")
        if isinstance(name, str):
            if name in seen:
                errors.append(Problem(f"duplicate rule name (first at line {f.where(('rules', seen[name]))['line']})",
                                      rule=name, **f.where(("rules", i, "name"))))
            else:
                seen[name] = i
        e, w = limits.check_rule(f, i, r, top)
        errors += e
        warnings += w
    errors.sort(key=_line)  # stable: problems on one line keep their order
    warnings.sort(key=_line)
    return errors, warnings
