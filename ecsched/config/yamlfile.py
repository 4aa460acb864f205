"""YAML text to data with lazy locations (through ecsched.yamlio), every problem located."""

from __future__ import annotations

from typing import Any

import yaml

from ecsched import yamlio
from ecsched.config.file import Locations, Path, Position
from ecsched.config.source import LoadFailed
from ecsched.errors import Problem


def yaml_problem(path: str, e: yaml.YAMLError, text: str | None = None) -> Problem:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    msg = " ".join(str(x) for x in (getattr(e, "context", None), getattr(e, "problem", None)) if x) or str(e)
    if isinstance(e, yamlio.YamlError):  # a limit or a duplicate, not syntax
        return Problem(msg, file=path, line=mark.line + 1 if mark else None, col=mark.column + 1 if mark else None)
    line_text = ""
    if mark is not None and text is not None:
        lines = text.splitlines()
        line_text = lines[mark.line] if mark.line < len(lines) else ""
    # libyaml rarely names the tab it choked on: look at the line itself.
    indent = line_text[: len(line_text) - len(line_text.lstrip())]
    at = line_text[mark.column:mark.column + 1] if mark is not None else ""
    if "\\t" in msg or "tab" in msg or "\t" in indent or at == "\t":
        msg += " (YAML does not allow tabs for indentation: use spaces)"
    if "maximum nesting depth" in msg:
        msg += f" (libyaml stops at 1,000 levels; ecsched reads at most {yamlio.MAX_DEPTH})"
    msg = f"YAML syntax error: {msg}"
    if mark is None:
        return Problem(msg, file=path)
    return Problem(msg, file=path, line=mark.line + 1, col=mark.column + 1)


def parse_yaml(path: str, text: str, *, reader: str = "YAML") -> tuple[Any, dict[Path, Position]]:
    """Data and its (lazy) locations. `reader` names the format in messages (JSON is parsed here too)."""
    try:
        node = yamlio.compose(text)
    except yaml.YAMLError as e:
        raise LoadFailed([yaml_problem(path, e, text)]) from None
    if node is None:
        raise LoadFailed([Problem("the file is empty: it needs at least `rules:`", file=path, line=1, col=1)])
    problems: list[yamlio.YamlError] = []
    try:
        data = yamlio.Walker(problems, reader=reader).walk(node, ())
    except yamlio.YamlError as e:  # too deep
        raise LoadFailed([yaml_problem(path, e)]) from None
    if problems:
        raise LoadFailed([yaml_problem(path, e) for e in problems])

    def locate() -> dict[Path, Position]:
        locs: dict[Path, Position] = {}
        yamlio.Walker([], locs).walk(node, ())
        return locs

    return data, Locations(locate)
