"""Template functions: the registry the templates call and the plugins register into, and the
built-in functions (`env`, `must_env`, `json_escape`, `print`, `printf`, `plugin`).

Plugins (config/plugins/) import this module only: `Functions`, `TemplateError`, `go_sprintf`.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


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


# Messages of a call to a function that is not there: consequences when a plugin failed to set up.
MISSING_FUNCTION_PREFIXES = ("unknown template function `", "no plugin function `")
