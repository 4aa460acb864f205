"""Go-template calls in the file text, as ecschedule writes them: `{{ env "A" "default" }}`.

Supported, with Go's syntax: function calls with arguments (`{{ FUNC ARG... }}`), arguments quoted with
"..." (Go escapes) or `...` (raw), bare numbers and `true`/`false`, parenthesised calls `(env "A")`,
pipelines (`{{ env "A" | printf "%s-x" }}`), trim markers `{{- ... -}}` and comments `{{/* ... */}}`.
That covers everything ecschedule and ecspresso configs use; control structures (`if`, `range`),
variables (`$x`) and fields (`.Foo`) are reported, with their line, rather than guessed at.

Functions live in a `Functions` registry (config/functions.py): `env`, `must_env`, `json_escape`,
`print`, `printf` and `plugin` are built in, and plugins (tfstate, ssm) register theirs under their
`func_prefix`, together with the Jsonnet natives they offer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ecsched.config.functions import Functions, TemplateError
from ecsched.errors import Problem

__all__ = ["LENIENT_PLACEHOLDER", "escape_actions", "evaluate", "render", "unquote_go"]


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
           source: str | None = None, failed: set[int] | None = None) -> tuple[str, list[Problem]]:
    """Evaluate every `{{ ... }}`. Returns the text and every problem (with its line), not just the first.

    `lenient` turns failures into a placeholder: used for the first pass that only reads `plugins:`.
    `source`: the text the user wrote, when `text` was generated from it (Jsonnet output). Problems
    are then located by finding the action in `source`; when it is not there, they carry no line.
    `failed` collects the line of every failed action, also of those not reported again (`once`).
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
            else:
                places = _locate(text, a, file, source)
                if failed is not None:
                    failed.update(w["line"] for w in places if w.get("line"))
                if not (once and message in reported_once):
                    reported_once.add(message)
                    # One problem per place: a call Jsonnet's output repeats is reported where it is written.
                    for where in places:
                        p = Problem(message, **where)
                        if source is None or p not in problems:
                            problems.append(p)
        if a.trim_right:
            while last < len(text) and text[last] in _WS:
                last += 1
    out.append(text[last:])
    return "".join(out), problems


def _locate(text: str, a: _Action, file: str, source: str | None) -> list[dict[str, Any]]:
    """Where the action is written: its place in `text`, or (generated text) every place in `source`
    that holds the same call. Jsonnet sorts keys and repeats values, so the output's order and count
    of a call say nothing about which one in the source produced it."""
    if source is None:
        line, col = _line_col(text, a.start)
        return [{"file": file, "line": line, "col": col}]
    raw = text[a.start:a.end]
    candidates = [raw]
    try:  # the action sat inside a JSON string: its quotes and backslashes are escaped there
        candidates.append(json.loads(f'"{raw}"'))
    except ValueError:
        pass
    for c in candidates:
        places = [m.start() for m in re.finditer(re.escape(c), source)]
        if places:
            return [{"file": file, **dict(zip(("line", "col"), _line_col(source, i), strict=True))} for i in places]
    return [{"file": file}]


def escape_actions(text: str) -> str:
    """Text that renders to itself: every `{{` becomes an action that prints `{{`."""
    return text.replace("{{", "{{`{{`}}")
