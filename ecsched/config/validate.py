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


# Keys of an ECS task's target: a job rule (queue + job) has no use for them.
ECS_ONLY = ("taskCount", "taskOverride", "containerOverrides", "group", "launch_type", "platform_version",
            "propagateTags", "capacityProviderStrategy", "network_configuration", "enableExecuteCommand",
            "enableECSManagedTags", "placementConstraints", "placementStrategy", "tags")
_JOB_KEYS = ("queue", "job", "messageGroupId")


def _job_owned(path: tuple[Any, ...], rules: list[Any]) -> bool:
    if len(path) < 3 or path[0] != "rules" or path[2] not in _JOB_KEYS or not isinstance(path[1], int):
        return False
    r = rules[path[1]] if path[1] < len(rules) else None
    return isinstance(r, dict) and ("queue" in r or "job" in r)


def job_checks(f: ConfigFile, i: int, r: dict[str, Any], top: dict[str, Any]) -> tuple[list[Problem], list[Problem]]:
    """An sqsjkr job rule's checks (ecsched.sqsjkr.validate), located at their keys. (errors, warnings)"""
    from ecsched.sqsjkr.validate import is_job_rule, rule_problems

    if not is_job_rule(r):
        return [], []
    name = str(r["name"]) if r.get("name") is not None else f"#{i + 1}"
    backend = str(r.get("backend") or top.get("backend") or "rules")
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for issue in rule_problems(r, backend=backend):
        keys = tuple(issue.path.split(".")) if issue.path else ()
        (errors if issue.level == "error" else warnings).append(
            Problem(str(issue) if not keys else f"{issue.path}: {issue.message}", rule=name,
                    **f.where(("rules", i, *keys))))
    for key in ECS_ONLY:
        if key in r:
            errors.append(Problem(f"{key} applies to ECS task rules; a job rule (queue + job) sends a message, "
                                  "remove it", rule=name, **f.where(("rules", i, key))))
    if backend == "rules" and r.get("role"):
        warnings.append(Problem("role is ignored: an SQS target on the rules backend takes no role (the queue "
                                "policy lets the rule send; see `apply --fix-queue-policy`)", rule=name,
                                **f.where(("rules", i, "role"))))
    if backend == "scheduler" and not (r.get("role") or top.get("role")):
        errors.append(Problem("a job rule on backend: scheduler needs `role:` (a role that may sqs:SendMessage "
                              "to the queue)", rule=name, **f.where(("rules", i))))
    return errors, warnings


def _line(p: Problem) -> tuple[int, int]:
    return (p.line or 0, p.col or 0)


def validate_file(f: ConfigFile) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) for one loaded file, each in file order."""
    rules = f.data.get("rules") or []
    found = schema_errors(f.data)
    if isinstance(rules, list):  # the job checks below say more than the schema under a job rule's own keys
        found = [x for x in found if not _job_owned(x.path, rules)]
    errors, warnings = messages.problems(f, found, sorted(schema()["properties"]))
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
        e, w = job_checks(f, i, r, top)
        errors += e
        warnings += w
    errors.sort(key=_line)  # stable: problems on one line keep their order
    warnings.sort(key=_line)
    return errors, warnings
