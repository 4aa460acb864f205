"""Offline validation: the schema, then AWS's own limits (which moto never checks and AWS checks only
at apply time). Every problem is reported, each located at its file, line and rule.

The schema (schema.json, draft 2020-12, also used by editors) is compiled once into plain Python
checks: jsonschema would cost more to import than this whole module takes to validate a thousand
rules, and its messages would need rewording anyway. Only the keywords the schema uses are
supported; an unsupported one fails loudly at compile time (a test compiles the shipped schema, and
cross-checks the verdicts against jsonschema).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from ecsched import expressions
from ecsched.config.loader import ConfigFile, Path
from ecsched.errors import Problem

NAME_RE = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
MAX_INPUT = 8192


@cache
def schema() -> dict[str, Any]:
    # Beside this module (package data); importlib.resources would cost more to import than this takes.
    with open(os.path.join(os.path.dirname(__file__), "schema.json"), encoding="utf-8") as f:
        return dict(json.load(f))


# --- the schema, compiled ------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaError:
    """One schema violation: `kind` is the keyword, `path` where, `detail` what the message needs."""

    kind: str
    path: Path
    instance: Any
    detail: Any = None


Check = Callable[[Any, Path, list[SchemaError]], None]

# Keywords that describe rather than constrain (annotations, and editors' extensions).
_ANNOTATIONS = {"$schema", "$id", "$comment", "$defs", "title", "description", "markdownDescription", "default",
                "examples", "deprecationMessage", "patternErrorMessage", "errorMessage", "enumDescriptions",
                "markdownEnumDescriptions", "doNotSuggest", "defaultSnippets"}
_SUPPORTED = {"type", "properties", "additionalProperties", "required", "items", "enum", "minimum", "maximum",
              "minLength", "maxLength", "minItems", "maxItems", "maxProperties", "pattern", "propertyNames", "$ref"}


def _is_type(v: Any, t: str) -> bool:
    if t == "string":
        return isinstance(v, str)
    if t == "integer":
        return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    if t == "number":
        return isinstance(v, int | float) and not isinstance(v, bool)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "null":
        return v is None
    raise ValueError(f"schema: unknown type `{t}`")


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, ref: str) -> Check:
        if not ref.startswith("#/$defs/"):
            raise ValueError(f"schema: unsupported $ref `{ref}`")
        name = ref[len("#/$defs/"):]
        if name not in self.refs:
            target: list[Check] = []
            # Registered before compiling, so recursive definitions terminate.
            self.refs[name] = lambda v, p, out: target[0](v, p, out)
            target.append(self.compile(self.root["$defs"][name]))
            self.refs[name] = target[0]
        return self.refs[name]

    def compile(self, s: dict[str, Any]) -> Check:
        unknown = set(s) - _SUPPORTED - _ANNOTATIONS
        if unknown:
            raise ValueError(f"schema: unsupported keyword(s) {sorted(unknown)}")
        checks: list[Check] = []
        if "$ref" in s:
            checks.append(self.ref(s["$ref"]))
        types = s.get("type")
        if types is not None:
            types = [types] if isinstance(types, str) else list(types)
        if "enum" in s:
            choices = list(s["enum"])

            def enum(v: Any, p: Path, out: list[SchemaError]) -> None:
                if v not in choices or any(type(v) is not type(c) for c in choices if c == v):
                    out.append(SchemaError("enum", p, v, choices))

            checks.append(enum)
        lo, hi = s.get("minimum"), s.get("maximum")
        if lo is not None or hi is not None:
            def bounds(v: Any, p: Path, out: list[SchemaError]) -> None:
                if isinstance(v, int | float) and not isinstance(v, bool) and (
                        (lo is not None and v < lo) or (hi is not None and v > hi)):
                    out.append(SchemaError("range", p, v, (lo, hi)))

            checks.append(bounds)
        self._strings(s, checks)
        self._arrays(s, checks)
        self._objects(s, checks)

        def check(v: Any, p: Path, out: list[SchemaError]) -> None:
            if types is not None and not any(_is_type(v, t) for t in types):
                out.append(SchemaError("type", p, v, types))
                return  # the other keywords would only repeat it
            for c in checks:
                c(v, p, out)

        return check

    def _strings(self, s: dict[str, Any], checks: list[Check]) -> None:
        min_len, max_len = s.get("minLength"), s.get("maxLength")
        if min_len is not None or max_len is not None:
            def length(v: Any, p: Path, out: list[SchemaError]) -> None:
                if isinstance(v, str) and ((min_len is not None and len(v) < min_len)
                                           or (max_len is not None and len(v) > max_len)):
                    out.append(SchemaError("length", p, v, (min_len, max_len)))

            checks.append(length)
        if "pattern" in s:
            rx = re.compile(s["pattern"])
            hint = s.get("patternErrorMessage") or f"must match the pattern {s['pattern']}"

            def pattern(v: Any, p: Path, out: list[SchemaError]) -> None:
                # An empty string is minLength's to report.
                if isinstance(v, str) and v and not rx.search(v):
                    out.append(SchemaError("pattern", p, v, hint))

            checks.append(pattern)

    def _arrays(self, s: dict[str, Any], checks: list[Check]) -> None:
        min_items, max_items = s.get("minItems"), s.get("maxItems")
        if min_items is not None or max_items is not None:
            def count(v: Any, p: Path, out: list[SchemaError]) -> None:
                if isinstance(v, list) and ((min_items is not None and len(v) < min_items)
                                            or (max_items is not None and len(v) > max_items)):
                    out.append(SchemaError("items", p, v, (min_items, max_items)))

            checks.append(count)
        if "items" in s:
            item = self.compile(s["items"])

            def items(v: Any, p: Path, out: list[SchemaError]) -> None:
                if isinstance(v, list):
                    for i, x in enumerate(v):
                        item(x, (*p, i), out)

            checks.append(items)

    def _objects(self, s: dict[str, Any], checks: list[Check]) -> None:
        props = {k: self.compile(v) for k, v in s.get("properties", {}).items()}
        required = list(s.get("required", []))
        extra = s.get("additionalProperties", True)
        extra_check = self.compile(extra) if isinstance(extra, dict) else None
        names = self.compile(s["propertyNames"]) if "propertyNames" in s else None
        max_props = s.get("maxProperties")
        allowed = sorted(props)
        if not (props or required or extra is not True or names or max_props is not None):
            return

        def obj(v: Any, p: Path, out: list[SchemaError]) -> None:
            if not isinstance(v, dict):
                return
            for key in required:
                if key not in v:
                    out.append(SchemaError("required", p, v, key))
            if max_props is not None and len(v) > max_props:
                out.append(SchemaError("properties", p, v, max_props))
            for key, value in v.items():
                if names is not None:
                    bad: list[SchemaError] = []
                    names(key, p, bad)
                    out += [SchemaError("key", p, key, e) for e in bad]
                c = props.get(key)
                if c is not None:
                    c(value, (*p, key), out)
                elif extra is False:
                    out.append(SchemaError("unknown", (*p, key), key, allowed))
                elif extra_check is not None:
                    extra_check(value, (*p, key), out)

        checks.append(obj)


@cache
def compiled() -> Check:
    return _Compiler(schema()).compile(schema())


def schema_errors(data: Any) -> list[SchemaError]:
    out: list[SchemaError] = []
    compiled()(data, (), out)
    return out


# --- messages ------------------------------------------------------------------------------------

_WORDS = {"string": "a string", "integer": "an integer", "boolean": "true or false", "array": "a list",
          "object": "a mapping", "number": "a number", "null": "empty"}


def _type_name(v: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "a mapping", type(None): "empty (null)"}.get(type(v), type(v).__name__)


def _key_name(path: Path) -> str:
    keys = [p for p in path if isinstance(p, str)]
    if not keys:
        return "the top level"
    if isinstance(path[-1], int):
        return f"`{keys[-1]}[{path[-1]}]`"
    return f"`{keys[-1]}`"


def _span(lo: Any, hi: Any, unit: str = "") -> str:
    if lo is not None and hi is not None:
        return f"{lo}-{hi}{unit}"
    return f"at least {lo}{unit}" if lo is not None else f"at most {hi}{unit}"


def _message(e: SchemaError) -> str:
    key = _key_name(e.path)
    if e.kind == "unknown":
        import difflib

        near = difflib.get_close_matches(str(e.instance), e.detail, n=1, cutoff=0.6)
        if not near:  # `Launch_Type`, `scheduleexpression`: spelling differs only in case or `_`
            folded = {re.sub(r"[_\-]", "", k).lower(): k for k in e.detail}
            hit = folded.get(re.sub(r"[_\-]", "", str(e.instance)).lower())
            near = [hit] if hit else []
        hint = f"; did you mean `{near[0]}`?" if near else f"; valid keys here: {', '.join(e.detail)}"
        return f"unknown key `{e.instance}`{hint}"
    if e.kind == "required":
        return f"missing required key `{e.detail}`"
    if e.kind == "type":
        # `null` is allowed where leaving the key empty is: not worth naming as a choice.
        wanted = [t for t in e.detail if t != "null"] or ["null"]
        expected = " or ".join(_WORDS.get(t, t) for t in wanted)
        msg = f"{key} must be {expected}, not {_type_name(e.instance)}"
        if "integer" in e.detail and isinstance(e.instance, str) and e.instance.strip().isdigit():
            msg += f" (write {e.instance.strip()} without quotes)"
        elif "string" in e.detail and isinstance(e.instance, int | float) and not isinstance(e.instance, bool):
            msg += f' (quote it: "{e.instance}")'
        elif "string" in e.detail and isinstance(e.instance, bool):
            msg += " (quote it if you meant the text)"
        return msg
    if e.kind == "enum":
        choices = ", ".join(str(c) for c in e.detail)
        near = [c for c in e.detail if isinstance(c, str) and str(e.instance).lower() == c.lower()]
        hint = f"; did you mean `{near[0]}`?" if near else ""
        return f"{key} must be one of {choices}, not `{e.instance}`{hint}"
    if e.kind == "range":
        return f"{key} {e.instance} is out of range {_span(*e.detail)}"
    if e.kind == "length":
        lo, hi = e.detail
        if lo and not e.instance:
            return f"{key} must not be empty"
        return f"{key} is {len(e.instance)} characters long; allowed: {_span(lo, hi, ' characters')}"
    if e.kind == "pattern":
        return f"{key} `{e.instance}` {e.detail}"
    if e.kind == "items":
        lo, hi = e.detail
        if lo and not e.instance:
            return f"{key} must not be empty"
        return f"{key} has {len(e.instance)} items; allowed: {_span(lo, hi)}"
    if e.kind == "key":  # a property name breaks `propertyNames`: say which, briefly
        k = str(e.instance)
        shown = k if len(k) <= 40 else k[:40] + "…"
        inner = _message(SchemaError(e.detail.kind, ("x",), e.detail.instance, e.detail.detail))
        return f"{key} key `{shown}`{inner[len('`x`'):]}"
    if e.kind == "properties":
        return f"{key} has {len(e.instance)} entries; at most {e.detail} allowed"
    return f"{key}: {e.kind}"  # pragma: no cover - every kind above


def _rule_name(f: ConfigFile, path: Path) -> str | None:
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rules = f.data.get("rules") or []
        if path[1] < len(rules) and isinstance(rules[path[1]], dict):
            name = rules[path[1]].get("name")
            return str(name) if name is not None else f"#{path[1] + 1}"
    return None


def _schema_problems(f: ConfigFile) -> list[Problem]:
    return [Problem(_message(e), rule=_rule_name(f, e.path), **f.where(e.path)) for e in schema_errors(f.data)]


# --- AWS's limits beyond the schema ----------------------------------------------------------------


def _date(text: str, tz: str) -> datetime | None:
    """The Scheduler backend's own reading of a date (None: not a date)."""
    from zoneinfo import ZoneInfo

    from ecsched.dates import parse_date

    try:
        ZoneInfo(tz)
    except (KeyError, ValueError):  # a bad timezone is reported on its own
        tz = "UTC"
    try:
        return parse_date(text, tz)
    except ValueError:
        return None


def _check_rule(f: ConfigFile, i: int, r: dict[str, Any], top: dict[str, Any]) -> tuple[list[Problem], list[Problem]]:
    """AWS's limits for one rule that the schema cannot express. Returns (errors, warnings).

    Runs on rules with schema errors too (every problem is reported), so each check looks at the
    types it needs and leaves wrong types to the schema's messages.
    """
    errors: list[Problem] = []
    warnings: list[Problem] = []
    name = str(r["name"]) if r.get("name") is not None else f"#{i + 1}"
    base: Path = ("rules", i)

    def err(msg: str, *key: str | int) -> None:
        errors.append(Problem(msg, rule=name, **f.where((*base, *key))))

    def warn(msg: str, *key: str | int) -> None:
        warnings.append(Problem(msg, rule=name, **f.where((*base, *key))))

    def setting(key: str) -> Any:
        v = r.get(key)
        return v if v not in (None, "") else top.get(key)

    backend = setting("backend") or "rules"
    expr_text = r.get("scheduleExpression")
    tz = setting("timezone")
    if isinstance(expr_text, str):
        try:
            expr = expressions.parse(expr_text, allow_at=(backend == "scheduler"))
        except expressions.ExpressionError as e:
            shown = "" if expr_text.strip() in e.message else f" `{expr_text}`"
            err(f"scheduleExpression{shown}: {e.message}", "scheduleExpression")
        else:
            if isinstance(tz, str) and tz and backend == "rules":
                try:
                    expressions.to_utc_cron(expr, tz)
                except expressions.ExpressionError as e:
                    err(f"timezone: {e.message}", "timezone" if r.get("timezone") else "scheduleExpression")
    if isinstance(tz, str) and tz and (backend != "rules" or not isinstance(expr_text, str)):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            err(f"timezone `{tz}` is not an IANA time zone (e.g. Asia/Tokyo, UTC)", "timezone")

    launch_type = r.get("launch_type")
    cps = r.get("capacityProviderStrategy")
    cps = [c for c in cps if isinstance(c, dict)] if isinstance(cps, list) else []
    if cps and launch_type:
        warn("launch_type is ignored because capacityProviderStrategy is given (AWS rejects both together); "
             "remove `launch_type`", "launch_type")
    net = r.get("network_configuration")
    vpc = net.get("aws_vpc_configuration") if isinstance(net, dict) else None
    vpc = vpc if isinstance(vpc, dict) else {}
    effective_launch = None if cps else launch_type
    fargate = effective_launch == "FARGATE" or any(
        str(c.get("capacityProvider", "")).startswith("FARGATE") for c in cps)
    if fargate and not net:
        err("FARGATE needs network_configuration.aws_vpc_configuration (subnets, security_groups)",
            "capacityProviderStrategy" if cps else "launch_type")
    if effective_launch in ("EC2", "EXTERNAL") and vpc.get("assign_public_ip") == "ENABLED":
        err(f"assign_public_ip ENABLED needs FARGATE; with launch_type {effective_launch} use DISABLED",
            "network_configuration", "aws_vpc_configuration", "assign_public_ip")
    if effective_launch in ("EC2", "EXTERNAL") and r.get("platform_version"):
        err(f"platform_version applies to FARGATE only; remove it for launch_type {effective_launch}",
            "platform_version")

    if backend == "scheduler":
        from ecsched.config.build import flexible_window

        try:
            flexible_window(r.get("flexibleTimeWindow"))
        except ValueError as e:
            err(str(e), "flexibleTimeWindow")
        dates = {}
        for key in ("startDate", "endDate"):
            value = r.get(key)
            if isinstance(value, str) and value.strip():
                when = _date(value, tz if isinstance(tz, str) else "UTC")
                if when is None:
                    err(f"{key} `{value}` is not a date: write e.g. 2026-04-01T09:00:00+09:00, "
                        "2026-04-01T00:00:00Z or 2026-04-01", key)
                else:
                    dates[key] = when
        if len(dates) == 2 and dates["endDate"] <= dates["startDate"]:
            err("endDate is not after startDate", "endDate")
        group = r.get("scheduleGroup") or top.get("scheduleGroup")
        if isinstance(group, str) and group:
            key = "scheduleGroup"
            if group == "default":
                # ecsched owns schedules through a tag on their group, and the default group takes no tags.
                err("scheduleGroup `default` cannot be tagged, so ecsched could never own it: "
                    "leave scheduleGroup out (ecsched-<trackingId>) or name your own group", key)
            elif not re.fullmatch(r"[0-9A-Za-z_.\-]{1,64}", group):
                err(f"scheduleGroup `{group}` must be 1-64 of letters, digits, `.`, `-` and `_`", key)
        if r.get("targetId") is not None:
            warn("`targetId` has no effect with `backend: scheduler` (a schedule has one target)", "targetId")
    else:
        for key in ("flexibleTimeWindow", "startDate", "endDate", "actionAfterCompletion", "scheduleGroup"):
            if r.get(key) is not None:
                warn(f"`{key}` applies to `backend: scheduler` only; it is ignored here", key)
    if r.get("dedupe") is True and not r.get("containerOverrides"):
        err("dedupe needs containerOverrides naming the container that runs `ecsched lock`", "dedupe")

    # The Input that carries the overrides is limited to 8,192 characters.
    from ecsched.config.build import target_overrides

    try:
        size = len(json.dumps(target_overrides(r), separators=(",", ":"), ensure_ascii=False))
    except (TypeError, ValueError, KeyError, AttributeError):
        size = 0  # wrongly typed overrides: the schema's messages say why
    if size > MAX_INPUT:
        err(f"the overrides are {size} characters as JSON; EventBridge allows at most {MAX_INPUT} "
            "(move long values into the task definition)", "containerOverrides")
    return errors, warnings


def _line(p: Problem) -> tuple[int, int]:
    return (p.line or 0, p.col or 0)


def validate_file(f: ConfigFile) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) for one loaded file, each in file order."""
    errors = _schema_problems(f)
    warnings: list[Problem] = []
    rules = f.data.get("rules") or []
    if not isinstance(rules, list):
        return errors, warnings
    if not rules:
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
        e, w = _check_rule(f, i, r, top)
        errors += e
        warnings += w
    if errors:
        errors.sort(key=_line)  # stable: problems on one line keep their order
    return errors, warnings
