"""`ecsched validate`: check the config fully offline. No AWS call; boto3 and rich are never imported.

`--format text` (the default): problems go to stdout, one line each (`FILE:LINE:COL: rule NAME:
message`), as linters print them; warnings and the summary go to stderr, the summary after the list
(stdout is flushed first, so `2>&1` keeps the order). `--format json`: one document on stdout.
`--format github`: `::error file=...,line=...,col=...::message` workflow commands, which GitHub
Actions shows as annotations on the file.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ecsched.context import Context
from ecsched.errors import ConfigError, Problem

HELP = "check the config offline (no AWS calls): every problem, one line each"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=["text", "json", "github"], default="text",
                   help="text (default), json, or github (GitHub Actions annotations)")


def _escape(text: str, *, prop: bool = False) -> str:
    """GitHub workflow-command escaping: of the data, and more for property values."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github_line(p: Problem, level: str) -> str:
    props = [f"file={_escape(p.file, prop=True)}"] if p.file else []
    if p.line:
        props.append(f"line={p.line}")
        if p.col:
            props.append(f"col={p.col}")
    props.append("title=ecsched validate")
    rule = f"rule {p.rule}: " if p.rule else ""
    return f"::{level} {','.join(props)}::{_escape(rule + p.message)}"


def _as_json(p: Problem, severity: str) -> dict[str, Any]:
    return {"severity": severity, "file": p.file, "line": p.line, "col": p.col, "rule": p.rule,
            "message": p.message}


def run(args: argparse.Namespace, ctx: Context) -> int:
    fmt = getattr(args, "format", None) or "text"
    errors: list[Problem] = []
    rules: list[str] = []
    files: list[str] = []
    try:
        cfg = ctx.load_config()
    except ConfigError as e:
        errors, warnings = e.problems, e.warnings
    else:
        warnings, rules, files = cfg.warnings, cfg.rule_names(), [f.path for f in cfg.files]
    n = len(errors)
    summary = f"{n} problem{'s' if n != 1 else ''} found"
    if fmt == "json":
        ctx.out(json.dumps({"ok": not errors, "files": files, "rules": len(rules),
                            "problems": [_as_json(p, "error") for p in errors]
                            + [_as_json(p, "warning") for p in warnings]}, indent=2, ensure_ascii=False))
        return 1 if errors else 0
    if fmt == "github":
        for p in warnings:
            ctx.out(github_line(p, "warning"))
        for p in errors:
            ctx.out(github_line(p, "error"))
    else:
        for p in warnings:
            ctx.warn(str(p))
        for p in errors:
            ctx.out(str(p))
    ctx.stdout.flush()  # the summary comes after the list, also when both go to one pipe
    if errors:
        ctx.info(summary)
        return 1
    n = len(rules)
    ctx.info(f"ok: {n} rule{'s' if n != 1 else ''} in {', '.join(files)}")
    return 0
