"""Go-template calls in the file text, as ecschedule writes them: `{{ env "A" "default" }}`.

Supported, with Go's syntax: function calls with arguments (`{{ FUNC ARG... }}`), arguments quoted with
"..." (Go escapes) or `...` (raw), bare numbers and `true`/`false`, parenthesised calls `(env "A")`,
pipelines (`{{ env "A" | printf "%s-x" }}`), trim markers `{{- ... -}}` and comments `{{/* ... */}}`.
That covers everything ecschedule and ecspresso configs use; control structures (`if`, `range`),
variables (`$x`) and fields (`.Foo`) are reported, with their line, rather than guessed at.

Functions live in a `Functions` registry: `env`, `must_env`, `json_escape`, `print`, `printf` and
`plugin` are built in, and plugins (tfstate, ssm) register theirs under their `func_prefix`, together
with the Jsonnet natives they offer.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecsched.errors import Problem


class TemplateError(Exception):
    """A failure worth one line. `once`: the same message at several actions is reported only once
    (a missing state file fails every lookup that uses it)."""

    def __init__(self, message: str, *, once: bool = False) -> None:
        super().__init__(message)
        self.once = once


Func = Callable[..., str]
# A Jsonnet native: (parameter names, callable). Jsonnet hands it strings, floats, bools or None.
Native = tuple[tuple[str, ...], Callable[..., Any]]

# Functions that exist only once a plugin is declared: used for a better "unknown function" hint.
_PLUGIN_FUNCS = {"tfstate": "tfstate", "tfstatef": "tfstate", "ssm": "ssm"}


@dataclass
class Functions:
    funcs: dict[str, Func] = field(default_factory=dict)
    natives: dict[str, Native] = field(default_factory=dict)
    # name -> what defined it ("tfstate plugin"); builtins are absent.
    origins: dict[str, str] = field(default_factory=dict)

    def register(self, name: str, fn: Func, *, origin: str | None = None) -> None:
        if origin is not None:
            if name in self.funcs:
                was = self.origins.get(name, "a built-in function")
                raise TemplateError(f"function `{name}` is already defined (by {was}); "
                                    "give each plugin its own `func_prefix`")
            self.origins[name] = origin
        self.funcs[name] = fn

    def register_native(self, name: str, params: tuple[str, ...], fn: Callable[..., Any]) -> None:
        self.natives[name] = (params, fn)

    def plugin_functions(self) -> list[str]:
        return sorted(self.origins)

    def __contains__(self, name: object) -> bool:
        return name in self.funcs

    def call(self, name: str, args: list[str]) -> str:
        fn = self.funcs.get(name)
        if fn is None:
            raise TemplateError(self.unknown(name))
        return str(fn(*args))

    def unknown(self, name: str) -> str:
        near = difflib.get_close_matches(name, list(self.funcs), n=1, cutoff=0.85)
        if near:
            return f"unknown template function `{name}`; did you mean `{near[0]}`?"
        for suffix, plugin in _PLUGIN_FUNCS.items():
            if name.endswith(suffix):
                prefix = name[: -len(suffix)]
                how = f" with `func_prefix: {prefix}`" if prefix else ""
                have = [f for f in self.plugin_functions() if f.endswith(suffix)]
                now = f" (declared now: {', '.join(have)})" if have else ""
                return f"unknown template function `{name}`: declare the {plugin} plugin under `plugins:`{how}{now}"
        return f"unknown template function `{name}`; available: {', '.join(sorted(self.funcs))}"


# --- Go's fmt, the subset configs use: %s %d %v %q %% with flags - 0 and a width ---------------------

_VERB = re.compile(r"%([-+0 #]*)(\d*)(?:\.(\d+))?(.|$)", re.DOTALL)


def go_sprintf(fmt: str, args: list[Any] | tuple[Any, ...]) -> str:
    out: list[str] = []
    pos = 0
    used = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width, prec, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        if verb not in ("s", "d", "v", "q"):
            what = f"%{verb}" if verb else "a trailing %"
            raise TemplateError(f"format `{fmt}`: {what} is not supported (use %s, %d, %v, %q or %%)")
        if used >= len(args):
            raise TemplateError(f"format `{fmt}` needs more arguments than the {len(args)} given")
        arg = args[used]
        used += 1
        if verb == "d":
            try:
                s = str(int(str(arg), 10))
            except ValueError:
                raise TemplateError(f"format `{fmt}`: %d needs an integer, got `{arg}`") from None
        elif verb == "q":
            s = json.dumps(str(arg), ensure_ascii=False)
        else:
            s = str(arg)
            if prec:
                s = s[: int(prec)]
        if width:
            w = int(width)
            if "-" in flags:
                s = s.ljust(w)
            elif "0" in flags and verb == "d":
                sign = "-" if s.startswith("-") else ""
                s = sign + s.lstrip("-").rjust(w - len(sign), "0")
            else:
                s = s.rjust(w)
        out.append(s)
    out.append(fmt[pos:])
    if used < len(args):
        extra = ", ".join(f"`{a}`" for a in args[used:])
        raise TemplateError(f"format `{fmt}` has {used} verb(s) but {len(args)} arguments (extra: {extra})")
    return "".join(out)


def builtin_functions(environ: Mapping[str, str] | None = None) -> Functions:
    env = os.environ if environ is None else environ
    funcs = Functions()

    def env_(*args: str) -> str:
        # The first non-empty variable among all but the last argument, else the last (the default).
        # ecschedule also looks the default up as a variable name; that surprise is deliberately left out.
        if not args:
            raise TemplateError("`env` needs a variable name, e.g. {{ env `NAME` `default` }}")
        if len(args) == 1:
            return env.get(args[0], "")
        for name in args[:-1]:
            if env.get(name):
                return env[name]
        return args[-1]

    def must_env(*args: str) -> str:
        if len(args) != 1 or not args[0]:
            raise TemplateError("`must_env` takes exactly one variable name")
        name = args[0]
        if name not in env:
            raise TemplateError(f"environment variable {name} is not set (required by must_env); set it or use `env`")
        return env[name]

    def json_escape(*args: str) -> str:
        if len(args) != 1:
            raise TemplateError("`json_escape` takes exactly one string")
        return json.dumps(args[0], ensure_ascii=False)[1:-1]

    def print_(*args: str) -> str:
        return "".join(args)

    def printf(*args: str) -> str:
        if not args:
            raise TemplateError("`printf` needs a format, e.g. {{ printf `%s-%s` (env `A`) `b` }}")
        return go_sprintf(args[0], args[1:])

    def plugin(*args: str) -> str:
        if not args or not args[0]:
            raise TemplateError("`plugin` needs a function name, e.g. {{ plugin `first_tfstate` `aws_vpc.main.id` }}")
        name, rest = args[0], list(args[1:])
        if name not in funcs.origins:
            declared = funcs.plugin_functions()
            near = difflib.get_close_matches(name, declared, n=1, cutoff=0.85)
            if near:
                hint = f"; did you mean `{near[0]}`?"
            elif declared:
                hint = f"; the declared plugins provide: {', '.join(declared)}"
            else:
                hint = "; no plugin is declared under `plugins:`"
            raise TemplateError(f"no plugin function `{name}`{hint}")
        return funcs.call(name, rest)

    funcs.register("env", env_)
    funcs.register("must_env", must_env)
    funcs.register("json_escape", json_escape)
    funcs.register("print", print_)
    funcs.register("printf", printf)
    funcs.register("plugin", plugin)
    return funcs


# --- Go string literals -------------------------------------------------------------------------

_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   "\\": "\\", '"': '"'}


def unquote_go(body: str) -> str:
    """The value of a Go interpreted string literal's body (without the quotes)."""
    if "\\" not in body:
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        if i + 1 >= len(body):
            raise TemplateError("a string ends with a lone backslash")
        e = body[i + 1]
        if e in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[e].encode()
            i += 2
        elif e == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", body[i + 2:i + 4]):
            out.append(int(body[i + 2:i + 4], 16))  # a byte, as in Go
            i += 4
        elif e in "01234567" and re.fullmatch(r"[0-7]{3}", body[i + 1:i + 4]):
            out.append(int(body[i + 1:i + 4], 8) & 0xFF)
            i += 4
        elif e in "uU" and re.fullmatch(r"[0-9a-fA-F]{%d}" % (4 if e == "u" else 8),
                                        body[i + 2:i + (6 if e == "u" else 10)]):
            n = 4 if e == "u" else 8
            out += chr(int(body[i + 2:i + 2 + n], 16)).encode("utf-8", "surrogatepass")
            i += 2 + n
        else:
            raise TemplateError(f"unknown escape `\\{e}` in a \"...\" string (use `...` for raw text)")
    return out.decode("utf-8", "replace")


# --- scanning the text for actions --------------------------------------------------------------

_WS = " \t\r\n"


@dataclass
class _Action:
    start: int  # index of "{{"
    end: int  # index just after "}}"
    body: str
    trim_left: bool
    trim_right: bool
    error: str | None = None


def _scan(text: str) -> Iterator[_Action]:
    pos = 0
    n = len(text)
    while True:
        start = text.find("{{", pos)
        if start < 0:
            return
        i = start + 2
        trim_left = text.startswith("-", i) and i + 1 < n and text[i + 1] in _WS
        if trim_left:
            i += 1
        body_start = i
        error: str | None = None
        end = -1
        while i < n:
            c = text[i]
            if text.startswith("}}", i):
                end = i
                break
            if c == '"':
                j = i + 1
                while j < n and text[j] not in '"\n':
                    j += 2 if text[j] == "\\" else 1
                if j >= n or text[j] == "\n":
                    error = "unterminated \"...\" string in a template action"
                    close = text.find("}}", j)
                    end = close if close >= 0 else -1
                    break
                i = j + 1
            elif c == "`":
                j = text.find("`", i + 1)
                if j < 0:
                    break
                i = j + 1
            elif c == "\\":  # `\"` outside a string: an action inside a JSON string; the tokenizer says so
                i += 2
            elif text.startswith("/*", i):
                j = text.find("*/", i + 2)
                if j < 0:
                    break
                i = j + 2
            else:
                i += 1
        if end < 0:
            yield _Action(start, n, text[body_start:], trim_left, False,
                          error or "unclosed action: `{{` without its `}}`")
            return
        body = text[body_start:end]
        trim_right = len(body) >= 2 and body.endswith("-") and body[-2] in _WS
        if trim_right:
            body = body[:-1]
        yield _Action(start, end + 2, body, trim_left, trim_right, error)
        pos = end + 2


# --- parsing and evaluating one action ----------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\\n]|\\.)*')
  | (?P<punct>[()|])
  | (?P<word>[^\s()|"`']+)
""", re.VERBOSE)
_NUM = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_KEYWORDS = {"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"}

Token = tuple[str, str]  # (kind, value): str (already unquoted), num, bool, nil, ident, ( ) |


def _tokenize(body: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(body):
        m = _TOKEN.match(body, pos)
        if not m:
            raise TemplateError(f"cannot read `{body[pos:].strip()}` in a template action")
        pos = m.end()
        kind = m.lastgroup or ""
        v = m.group(kind)
        if kind == "ws":
            continue
        if kind == "str":
            tokens.append(("str", unquote_go(v[1:-1])))
        elif kind == "raw":
            tokens.append(("str", v[1:-1]))
        elif kind == "char":
            raise TemplateError(f"{v}: character constants are not supported; quote strings with \"...\" or `...`")
        elif kind == "punct":
            tokens.append((v, v))
        elif v.startswith("\\"):
            raise TemplateError("`\\` in a template action: inside a JSON string, quote the arguments with "
                                "backticks, e.g. \"{{ env `NAME` `default` }}\"")
        elif _NUM.fullmatch(v):
            tokens.append(("num", v))
        elif v.startswith("$"):
            raise TemplateError(f"template variables (`{v}`) are not supported: ecsched templates are function calls")
        elif v.startswith(".") and _IDENT.fullmatch(v[1:].replace(".", "_") or "_"):
            raise TemplateError(f"`{v}` refers to template data, which ecsched configs do not have")
        elif not _IDENT.fullmatch(v):
            raise TemplateError(f"`{v}` must be quoted: \"{v}\" or `{v}`")
        elif v in ("true", "false"):
            tokens.append(("bool", v))
        elif v == "nil":
            raise TemplateError("`nil` is not a usable argument")
        elif v in _KEYWORDS:
            raise TemplateError(f"`{{{{ {v} }}}}` is not supported: ecsched templates are function calls only "
                                "(use Jsonnet for logic)")
        else:
            tokens.append(("ident", v))
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token], funcs: Functions) -> None:
        self.tokens = tokens
        self.i = 0
        self.funcs = funcs

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def pipeline(self) -> str:
        value = self.command(None)
        while (t := self.peek()) is not None and t[0] == "|":
            self.i += 1
            value = self.command(value)
        return value

    def command(self, piped: str | None) -> str:
        t = self.peek()
        if t is None or t[0] in (")", "|"):
            raise TemplateError("missing value for command" if t else "empty template action")
        if t[0] == "ident":
            self.i += 1
            name = t[1]
            if name not in self.funcs:
                raise TemplateError(self.funcs.unknown(name))
            args: list[str] = []
            while (a := self.peek()) is not None and a[0] not in (")", "|"):
                args.append(self.operand(arg_of=name))
            if piped is not None:
                args.append(piped)
            return self.funcs.call(name, args)
        value = self.operand(arg_of=None)
        nxt = self.peek()
        if nxt is not None and nxt[0] not in (")", "|"):
            raise TemplateError(f"`{nxt[1]}` cannot be given to `{value}`, which is not a function")
        if piped is not None:
            raise TemplateError(f"cannot pipe a value into `{value}`, which is not a function")
        return value

    def operand(self, arg_of: str | None) -> str:
        t = self.peek()
        assert t is not None
        self.i += 1
        kind, v = t
        if kind in ("str", "num", "bool"):
            return v
        if kind == "(":
            value = self.pipeline()
            close = self.peek()
            if close is None or close[0] != ")":
                raise TemplateError("missing `)`")
            self.i += 1
            return value
        if kind == "ident":
            if v in self.funcs:  # Go: a function name as an argument is a call without arguments
                return self.funcs.call(v, [])
            where = f" (an argument of `{arg_of}`)" if arg_of else ""
            raise TemplateError(f"`{v}`{where} must be quoted (\"...\" or `...`) or wrapped in ( )")
        raise TemplateError(f"unexpected `{v}`")


def evaluate(body: str, funcs: Functions) -> str:
    """The value of one action's body (what is between `{{` and `}}`)."""
    tokens = _tokenize(body)
    if not tokens:
        raise TemplateError("empty template action `{{ }}`")
    p = _Parser(tokens, funcs)
    value = p.pipeline()
    if p.i < len(tokens):
        raise TemplateError(f"unexpected `{tokens[p.i][1]}` in `{{{{{body}}}}}`")
    return value


# --- rendering a whole text ---------------------------------------------------------------------

# Lenient renders replace failed actions with this: valid in YAML and JSON, quoted or not.
LENIENT_PLACEHOLDER = "0"


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col


def render(text: str, funcs: Functions, *, file: str, lenient: bool = False,
           source: str | None = None) -> tuple[str, list[Problem]]:
    """Evaluate every `{{ ... }}`. Returns the text and every problem (with its line), not just the first.

    `lenient` turns failures into a placeholder: used for the first pass that only reads `plugins:`.
    `source`: the text the user wrote, when `text` was generated from it (Jsonnet output). Problems
    are then located by finding the action in `source`; when it is not there, they carry no line.
    """
    if "{{" not in text:
        return text, []
    problems: list[Problem] = []
    reported_once: set[str] = set()
    out: list[str] = []
    last = 0
    for a in _scan(text):
        before = text[last:a.start]
        if a.trim_left:
            before = before.rstrip(_WS)
        out.append(before)
        last = a.end
        message: str | None = a.error
        once = False
        if message is None and a.body.strip().startswith("/*"):
            if not a.body.strip().endswith("*/"):
                message = "a template comment must end with `*/}}`"
        elif message is None:
            try:
                out.append(evaluate(a.body, funcs))
            except TemplateError as e:
                message, once = str(e), e.once
            except Exception as e:  # a plugin's own failure: say which call, and what went wrong
                message = f"{{{{{a.body}}}}}: {type(e).__name__}: {e}"
        if message is not None:
            if lenient:
                out.append(LENIENT_PLACEHOLDER)
            elif not (once and message in reported_once):
                reported_once.add(message)
                problems.append(Problem(message, **_locate(text, a, file, source)))
        if a.trim_right:
            while last < len(text) and text[last] in _WS:
                last += 1
    out.append(text[last:])
    return "".join(out), problems


def _locate(text: str, a: _Action, file: str, source: str | None) -> dict[str, Any]:
    if source is None:
        line, col = _line_col(text, a.start)
        return {"file": file, "line": line, "col": col}
    raw = text[a.start:a.end]
    candidates = [raw]
    try:  # the action sat inside a JSON string: its quotes and backslashes are escaped there
        candidates.append(json.loads(f'"{raw}"'))
    except ValueError:
        pass
    for c in candidates:
        i = source.find(c)
        if i >= 0:
            line, col = _line_col(source, i)
            return {"file": file, "line": line, "col": col}
    return {"file": file}


def escape_actions(text: str) -> str:
    """Text that renders to itself: every `{{` becomes an action that prints `{{`."""
    return text.replace("{{", "{{`{{`}}")
