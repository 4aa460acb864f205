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


# The node tree costs about 600 bytes of memory per value: a text that may hold more values than
# MAX_VALUES is first counted as a stream of events (flat memory, a third of the parse time), and
# refused beyond these limits.
MAX_VALUES = 300_000  # about 6,500 rules written out in full: 180 MB while they are read
MAX_RULES = 5_000


def too_many_rules(n: int | None) -> str:
    """The message for a file with `n` rules (None: more than MAX_RULES, not all counted)."""
    count = f"{n:,} rules" if n is not None else f"more than {MAX_RULES:,} rules"
    return (f"{count}: ecsched reads at most {MAX_RULES:,} per file. AWS allows 300 EventBridge "
            "rules per event bus and region by default (Service Quotas can raise it) and 1,000,000 Scheduler "
            "schedules per account and region; split the rules over several files and runs")


def prescan(path: str, text: str) -> None:
    """Refuse a text with more rules or values than the limits, before its node tree is built."""
    values = rules = depth = 0
    in_rules = False
    key_next = False  # at depth 1, the next scalar is a key
    last_key: str | None = None
    try:
        for ev in yaml.parse(text, Loader=yamlio.Loader):
            if isinstance(ev, yaml.CollectionEndEvent):
                depth -= 1
                if depth == 1:
                    in_rules, key_next = False, True
                continue
            if not isinstance(ev, yaml.NodeEvent):
                continue
            values += 1
            mark = ev.start_mark
            at: dict[str, Any] = {"line": mark.line + 1, "col": mark.column + 1} if mark is not None else {}
            if in_rules and depth == 2:
                rules += 1
                if rules > MAX_RULES:
                    raise LoadFailed([Problem(too_many_rules(None), file=path, **at)])
            if values > MAX_VALUES:
                raise LoadFailed([Problem(f"more than {MAX_VALUES:,} values: ecsched reads at most that many per "
                                          f"file (about 6,500 rules); split the file", file=path, **at)])
            if depth == 1:
                if key_next and isinstance(ev, yaml.ScalarEvent):
                    last_key, key_next = ev.value, False
                else:
                    in_rules = last_key == "rules" and isinstance(ev, yaml.SequenceStartEvent)
                    key_next = True
            if isinstance(ev, yaml.CollectionStartEvent):
                depth += 1
                if depth == 1:
                    key_next = True
    except yaml.YAMLError:
        return  # the parse reports it, with its position


def value_bound(text: str) -> int:
    """At least the number of values (nodes) in a YAML text, cheaply: each scalar ends at a newline,
    `,`, `:`, `]` or `}` (a flow mapping's key without a value counts twice), and each collection
    starts at `[`, `{`, `-` or a key."""
    ends = sum(text.count(c) for c in "\n,:]}")
    return 2 * ends + sum(text.count(c) for c in "[{-") + 2


def parse_yaml(path: str, text: str, *, reader: str = "YAML") -> tuple[Any, dict[Path, Position]]:
    """Data and its (lazy) locations. `reader` names the format in messages (JSON is parsed here too)."""
    if len(text) * 3 > MAX_VALUES and value_bound(text) > MAX_VALUES:
        prescan(path, text)
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
