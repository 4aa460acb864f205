"""Go-template calls in the file text, as ecschedule writes them: `{{ env "A" "default" }}`.

Supported: `{{ FUNC ARG... }}` and `{{- ... -}}`, arguments quoted with "..." (Go escapes) or `...`
(raw), bare numbers, and parenthesised calls `(env "A")`. That is everything ecschedule's
configs use; anything else is reported, with its line, rather than guessed at.

Functions live in a `Functions` registry: `env`, `must_env` and `plugin` are built in, and plugins
(tfstate, ssm) register theirs under their `func_prefix`.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ecsched.errors import Problem

_ACTION = re.compile(r"\{\{(-?)(.*?)(-?)\}\}", re.DOTALL)
_TOKEN = re.compile(r'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|`([^`]*)`|([^\s()"`]+))')


class TemplateError(Exception):
    pass


Func = Callable[..., str]


@dataclass
class Functions:
    funcs: dict[str, Func] = field(default_factory=dict)

    def register(self, name: str, fn: Func) -> None:
        self.funcs[name] = fn

    def call(self, name: str, args: list[str]) -> str:
        fn = self.funcs.get(name)
        if fn is None:
            near = difflib.get_close_matches(name, list(self.funcs), n=1)
            hint = f"; did you mean `{near[0]}`?" if near else ""
            raise TemplateError(f"unknown template function `{name}`{hint}")
        return str(fn(*args))


def builtin_functions(environ: Mapping[str, str] | None = None) -> Functions:
    env = os.environ if environ is None else environ
    funcs = Functions()

    def env_(*args: str) -> str:
        # ecschedule: the first non-empty variable among all but the last argument, else the last.
        if not args:
            raise TemplateError("`env` needs a variable name")
        if len(args) == 1:
            return env.get(args[0], "")
        for name in args[:-1]:
            if env.get(name):
                return env[name]
        return args[-1]

    def must_env(name: str = "", *rest: str) -> str:
        if not name or rest:
            raise TemplateError("`must_env` takes exactly one variable name")
        if name not in env:
            raise TemplateError(f"environment variable {name} is not set (required by must_env); set it or use `env`")
        return env[name]

    def plugin(name: str = "", *args: str) -> str:
        if not name:
            raise TemplateError("`plugin` needs a function name, e.g. {{ plugin `first_tfstate` `aws_vpc.main.id` }}")
        return funcs.call(name, list(args))

    funcs.register("env", env_)
    funcs.register("must_env", must_env)
    funcs.register("plugin", plugin)
    return funcs


def _unquote_go(s: str) -> str:
    return s.encode("latin-1", "backslashreplace").decode("unicode_escape") if "\\" in s else s


def _evaluate(expr: str, funcs: Functions) -> str:
    tokens: list[tuple[str, str]] = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise TemplateError(f"cannot read template expression `{expr}`")
        pos = m.end()
        if m.group(1):
            tokens.append(("(", ""))
        elif m.group(2):
            tokens.append((")", ""))
        elif m.group(3) is not None:
            tokens.append(("str", _unquote_go(m.group(3))))
        elif m.group(4) is not None:
            tokens.append(("str", m.group(4)))
        else:
            tokens.append(("word", m.group(5)))
    value, rest = _call(tokens, funcs)
    if rest:
        raise TemplateError(f"unexpected `{rest[0][1] or rest[0][0]}` in `{expr}`")
    return value


def _call(tokens: list[tuple[str, str]], funcs: Functions) -> tuple[str, list[tuple[str, str]]]:
    if not tokens:
        raise TemplateError("empty template action")
    kind, name = tokens[0]
    if kind == "str":
        return name, tokens[1:]
    if kind != "word":
        raise TemplateError("a template action must start with a function name")
    if "|" in name:
        raise TemplateError("template pipelines (`|`) are not supported; call the function directly")
    args: list[str] = []
    rest = tokens[1:]
    while rest and rest[0][0] != ")":
        k, v = rest[0]
        if k == "(":
            value, rest = _call(rest[1:], funcs)
            if not rest or rest[0][0] != ")":
                raise TemplateError("missing `)`")
            args.append(value)
        elif k == "str" or re.fullmatch(r"-?\d+(\.\d+)?", v):
            args.append(v)
        else:
            raise TemplateError(f"`{v}` must be quoted (\"...\" or `...`) or wrapped in ( )")
        rest = rest[1:]
    return funcs.call(name, args), rest


def render(text: str, funcs: Functions, *, file: str, lenient: bool = False) -> tuple[str, list[Problem]]:
    """Evaluate every `{{ ... }}`. Returns the text and every problem (with its line), not just the first.

    `lenient` turns failures into empty strings: used for the first pass that only reads `plugins:`.
    """
    if "{{" not in text:
        return text, []
    problems: list[Problem] = []
    out: list[str] = []
    last = 0
    for m in _ACTION.finditer(text):
        start, end = m.start(), m.end()
        before = text[last:start]
        if m.group(1):
            before = before.rstrip()
        out.append(before)
        try:
            out.append(_evaluate(m.group(2), funcs))
        except TemplateError as e:
            if not lenient:
                line = text.count("\n", 0, start) + 1
                col = start - (text.rfind("\n", 0, start) + 1) + 1
                problems.append(Problem(str(e), file=file, line=line, col=col))
        except Exception as e:  # a plugin's own failure (missing state file, AWS error)
            if not lenient:
                line = text.count("\n", 0, start) + 1
                problems.append(Problem(f"{m.group(2).strip()}: {e}", file=file, line=line))
        last = end
        if m.group(3):
            # `-}}` trims the whitespace after the action.
            while last < len(text) and text[last] in " \t\r\n":
                last += 1
    out.append(text[last:])
    return "".join(out), problems
