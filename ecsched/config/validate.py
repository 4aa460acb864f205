"""Offline validation: the schema, then AWS's own limits (which moto never checks and AWS checks only
at apply time). Every problem is reported, each located at its file, line and rule.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import cache
from importlib import resources
from typing import Any

from ecsched import expressions
from ecsched.config.loader import ConfigFile, Path
from ecsched.errors import Problem

NAME_RE = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
MAX_INPUT = 8192


@cache
def schema() -> dict[str, Any]:
    return dict(json.loads(resources.files("ecsched.config").joinpath("schema.json").read_text()))


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def _properties_at(path: Path) -> list[str]:
    s = schema()
    node: dict[str, Any] = s
    for part in path:
        if isinstance(part, int):
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(part, {})
        if "$ref" in node:
            node = s["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return list(node.get("properties", {}))


def _type_name(v: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "a mapping", type(None): "empty (null)"}.get(type(v), type(v).__name__)


def _key_name(path: Path) -> str:
    keys = [p for p in path if isinstance(p, str)]
    return f"`{keys[-1]}`" if keys else "the top level"


def _schema_problems(f: ConfigFile) -> list[Problem]:
    problems = []
    for err in _validator().iter_errors(f.data):
        path: Path = tuple(err.absolute_path)
        rule = _rule_name(f, path)
        if err.validator == "additionalProperties":
            allowed = _properties_at(path)
            extra = [k for k in err.instance if k not in allowed]
            for key in extra:
                near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f"; did you mean `{near[0]}`?" if near else f"; valid keys here: {', '.join(sorted(allowed))}"
                problems.append(Problem(f"unknown key `{key}`{hint}", rule=rule, **f.where((*path, key))))
            continue
        if err.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", err.message)
            for key in missing:
                problems.append(Problem(f"missing required key `{key}`", rule=rule, **f.where(path)))
            continue
        if err.validator == "type":
            want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
            words = {"string": "a string", "integer": "an integer", "boolean": "true or false",
                     "array": "a list", "object": "a mapping", "number": "a number", "null": "empty"}
            expected = " or ".join(str(words.get(w, w)) for w in want)
            msg = f"{_key_name(path)} must be {expected}, not {_type_name(err.instance)}"
            if "integer" in want and isinstance(err.instance, str) and err.instance.isdigit():
                msg += f" (write {err.instance} without quotes)"
            problems.append(Problem(msg, rule=rule, **f.where(path)))
            continue
        if err.validator == "enum":
            choices = ", ".join(str(c) for c in err.validator_value)
            problems.append(Problem(f"{_key_name(path)} must be one of {choices}, not `{err.instance}`",
                                    rule=rule, **f.where(path)))
            continue
        if err.validator in ("minimum", "maximum"):
            problems.append(Problem(f"{_key_name(path)} {err.instance} is out of range "
                                    f"({'at least' if err.validator == 'minimum' else 'at most'} "
                                    f"{err.validator_value})", rule=rule, **f.where(path)))
            continue
        problems.append(Problem(f"{_key_name(path)}: {err.message}", rule=rule, **f.where(path)))
    return problems


def _rule_name(f: ConfigFile, path: Path) -> str | None:
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rules = f.data.get("rules") or []
        if path[1] < len(rules) and isinstance(rules[path[1]], dict):
            name = rules[path[1]].get("name")
            return str(name) if name is not None else f"#{path[1] + 1}"
    return None


def _check_rule(f: ConfigFile, i: int, r: dict[str, Any], top: dict[str, Any]) -> tuple[list[Problem], list[Problem]]:
    """AWS's limits for one (schema-valid) rule. Returns (errors, warnings)."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    name = str(r.get("name", f"#{i + 1}"))
    base: Path = ("rules", i)

    def err(msg: str, *key: str | int) -> None:
        errors.append(Problem(msg, rule=name, **f.where((*base, *key))))

    if not NAME_RE.match(name):
        if len(name) > 64:
            err(f"the name is {len(name)} characters; EventBridge allows at most 64", "name")
        else:
            err("the name may only contain letters, digits, `.`, `-` and `_`", "name")
    if len(r.get("description") or "") > 512:
        err(f"description is {len(r['description'])} characters; EventBridge allows at most 512", "description")
    tid = r.get("targetId")
    if tid is not None and not NAME_RE.match(str(tid)):
        err("targetId must be 1-64 of letters, digits, `.`, `-` and `_`", "targetId")

    backend = r.get("backend") or top.get("backend") or "rules"
    expr_text = r.get("scheduleExpression")
    if isinstance(expr_text, str):
        try:
            expressions.parse(expr_text, allow_at=(backend == "scheduler"))
        except expressions.ExpressionError as e:
            err(f"scheduleExpression: {e.message}", "scheduleExpression")
        tz = r.get("timezone") or top.get("timezone")
        if tz and backend == "rules" and not errors:
            try:
                expressions.to_utc_cron(expressions.parse(expr_text), str(tz))
            except expressions.ExpressionError as e:
                err(f"timezone: {e.message}", "timezone")
        elif tz:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(str(tz))
            except (ZoneInfoNotFoundError, ValueError):
                err(f"timezone `{tz}` is not an IANA time zone (e.g. Asia/Tokyo, UTC)", "timezone")

    count = r.get("taskCount")
    if isinstance(count, int) and not 1 <= count <= 10:
        err(f"taskCount {count} is out of range 1-10 (ECS RunTask starts at most 10 tasks)", "taskCount")

    cps = r.get("capacityProviderStrategy") or []
    if len(cps) > 6:
        err(f"capacityProviderStrategy has {len(cps)} items; AWS allows at most 6", "capacityProviderStrategy")
    if cps and r.get("launch_type"):
        warnings.append(Problem("launch_type is ignored because capacityProviderStrategy is given (AWS rejects "
                                "both together); remove `launch_type`", rule=name, **f.where((*base, "launch_type"))))
    vpc = (r.get("network_configuration") or {}).get("aws_vpc_configuration") or {}
    if len(vpc.get("subnets") or []) > 16:
        err(f"{len(vpc['subnets'])} subnets; AWS allows at most 16", "network_configuration")
    if len(vpc.get("security_groups") or []) > 5:
        err(f"{len(vpc['security_groups'])} security groups; AWS allows at most 5", "network_configuration")
    fargate = r.get("launch_type") == "FARGATE" or any(
        str(c.get("capacityProvider", "")).startswith("FARGATE") for c in cps)
    if fargate and not vpc:
        err("FARGATE needs network_configuration.aws_vpc_configuration (subnets, security_groups)",
            "launch_type" if r.get("launch_type") else "capacityProviderStrategy")
    if len(r.get("placementConstraints") or []) > 10:
        err("at most 10 placementConstraints", "placementConstraints")
    if len(r.get("placementStrategy") or []) > 5:
        err("at most 5 placementStrategy items", "placementStrategy")
    tags = r.get("tags") or {}
    if len(tags) > 50:
        err(f"{len(tags)} tags; AWS allows at most 50", "tags")
    for k, v in tags.items():
        if len(k) > 128 or len(str(v)) > 256:
            err(f"tag `{k[:40]}`: keys are at most 128 characters and values at most 256", "tags")
    if r.get("dedupe") and backend == "rules" and r.get("containerOverrides") is None:
        err("dedupe needs containerOverrides naming the container that runs `ecsched lock`", "dedupe")

    # The Input that carries the overrides is limited to 8,192 characters.
    from ecsched.config.build import target_overrides

    size = len(json.dumps(target_overrides(r), separators=(",", ":"), ensure_ascii=False))
    if size > MAX_INPUT:
        err(f"the overrides are {size} characters as JSON; EventBridge allows at most {MAX_INPUT} "
            "(move long values into the task definition)", "containerOverrides")
    return errors, warnings


def validate_file(f: ConfigFile) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) for one loaded file."""
    errors = _schema_problems(f)
    warnings: list[Problem] = []
    rules = f.data.get("rules") or []
    if not isinstance(rules, list):
        return errors, warnings
    if not rules:
        warnings.append(Problem("no rules: the file declares nothing to schedule", **f.where(("rules",))))
    broken = {p.rule for p in errors}
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
        if str(name) in broken:
            continue  # schema errors first: limits on a wrongly-typed rule would only add noise
        e, w = _check_rule(f, i, r, top)
        errors += e
        warnings += w
    return errors, warnings
