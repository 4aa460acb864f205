"""Jsonnet files: `std.extVar` from --ext-str/--ext-code, and native functions as ecspresso offers them.

Natives: `std.native('env')(name, default)` and `std.native('must_env')(name)` let non-string fields
(`disabled`, `taskCount`) come from the environment; the plugins declared in the file add
`std.native('tfstate')(address)`, `std.native('ssm')(name)` and `std.native('ssm_list')(name, index)`
(each under its `func_prefix`).

Plugins are declared inside the very file that uses them, so a file is evaluated in two passes:

1. only its `plugins` field (Jsonnet is lazy: nothing else is computed, so the natives that plugins
   provide are not needed yet), to set the plugins up;
2. the whole file, with every native bound.

Template actions left in the output (`"{{ tfstate `...` }}"`, as ecschedule's samples write them) are then
rendered here, with the same plugin instances (a state is read once), and problems are located at the
action's line in the Jsonnet source.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from ecsched.config import functions, template
from ecsched.config.functions import Native
from ecsched.config.source import LoadFailed, LoadOptions
from ecsched.errors import Problem

_LOC = re.compile(r"(?P<file>[^\s:()]+\.(?:jsonnet|libsonnet|json)):\(?(?P<line>\d+):(?P<col>\d+)")

_WRAP_HEAD = "local __ecsched_config = ("
_WRAP_TAIL = ("\n);\nif std.isObject(__ecsched_config) && std.objectHas(__ecsched_config, %s) "
              "then __ecsched_config[%s] else null\n")


def _failure(e: RuntimeError, path: str, *, head: int = 0) -> LoadFailed:
    """A LoadFailed for a Jsonnet error, located at its file, line and column."""
    msg = str(e).strip()
    first = msg.splitlines()[0] if msg else "evaluation failed"
    hint = ""
    if "Undefined external variable" in msg or "undefined external variable" in msg:
        hint = " (pass it with --ext-str K=V or --ext-code K=V)"
    elif "only functions can be called, got null" in msg:
        hint = (" (is it `std.native(...)` of a function that does not exist? tfstate, ssm and ssm_list come "
                "from the plugins declared under `plugins:`, with their func_prefix)")
    m = _LOC.search(msg)
    if m:
        line, col = int(m["line"]), int(m["col"])
        if head and line == 1 and m["file"] == path:
            col = max(1, col - head)
        return LoadFailed([Problem(f"Jsonnet: {first}{hint}", file=m["file"], line=line, col=col)])
    return LoadFailed([Problem(f"Jsonnet: {first}{hint}", file=path)])


def _missing_plugin(native: str, plugin: str) -> Callable[..., Any]:
    def fail(*_args: Any) -> Any:
        raise RuntimeError(f"std.native('{native}') needs the {plugin} plugin: declare it under `plugins:` "
                           f"(- name: {plugin})")

    return fail


def base_natives(environ: Mapping[str, str]) -> dict[str, Native]:
    def env(name: Any, default: Any = "") -> Any:
        if not isinstance(name, str):
            raise RuntimeError("env: the variable name must be a string")
        return environ.get(name, default)

    def must_env(name: Any) -> str:
        if not isinstance(name, str):
            raise RuntimeError("must_env: the variable name must be a string")
        if name not in environ:
            raise RuntimeError(f"environment variable {name} is not set (required by must_env)")
        return environ[name]

    return {
        "env": (("name", "default"), env),
        "must_env": (("name",), must_env),
        # Replaced by the plugins' own natives when they are declared.
        "tfstate": (("address",), _missing_plugin("tfstate", "tfstate")),
        "ssm": (("name",), _missing_plugin("ssm", "ssm")),
        "ssm_list": (("name", "index"), _missing_plugin("ssm_list", "ssm")),
    }


def _shielded(value: Any) -> Any:
    """A native's result, with `{{` in its strings escaped: the output is rendered as a template next,
    and a value (a password, say) must not be read as one."""
    if isinstance(value, str):
        return template.escape_actions(value) if "{{" in value else value
    if isinstance(value, list):
        return [_shielded(v) for v in value]
    if isinstance(value, dict):
        return {k: _shielded(v) for k, v in value.items()}
    return value


def _shield(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return _shielded(fn(*args))

    return call


def _bindable(natives: dict[str, Native]) -> dict[str, Native]:
    """Natives as the binding takes them: results shielded, and parameter names of one letter:
    jsonnet 0.22.0's Python binding loses multi-letter parameter names of natives with two or more
    parameters ("binding parameter a second time", google/jsonnet#1321); one-letter names survive.
    Natives are called positionally, so the names do not matter otherwise."""
    out: dict[str, Native] = {}
    for name, (params, fn) in natives.items():
        if len(params) > 1:
            letters: list[str] = []
            for p in params:
                c = next((ch for ch in p + "abcdefghijklmnopqrstuvwxyz" if ch.isalpha() and ch not in letters), "z")
                letters.append(c)
            params = tuple(letters)
        out[name] = (params, _shield(fn))
    return out


def _run(path: str, text: str, opts: LoadOptions, natives: dict[str, Native]) -> str:
    import _jsonnet

    out: str = _jsonnet.evaluate_snippet(
        path, text, ext_vars=dict(opts.ext_str), ext_codes=dict(opts.ext_code),
        native_callbacks=_bindable(natives), jpathdir=[os.path.dirname(os.path.abspath(path))],
    )
    return out


def _field(path: str, text: str, opts: LoadOptions, natives: dict[str, Native], name: str,
           funcs: functions.Functions) -> Any:
    """The value of one top-level field, computing nothing else, its template actions rendered with
    `funcs`. Raises LoadFailed."""
    key = json.dumps(name)
    wrapped = _WRAP_HEAD + text + _WRAP_TAIL % (key, key)
    try:
        out = _run(path, wrapped, opts, natives)
    except RuntimeError as e:
        raise _failure(e, path, head=len(_WRAP_HEAD)) from None
    out, problems = template.render(out, funcs, file=path, source=text)
    if problems:
        raise LoadFailed(problems)
    try:
        return json.loads(out)
    except ValueError as e:
        raise LoadFailed([Problem(f"`{name}` is not valid JSON once its templates are rendered: {e}",
                                  file=path)]) from None


def evaluate(path: str, text: str, opts: LoadOptions) -> tuple[str, list[Problem], set[int]]:
    """The JSON text, the problems that did not stop the evaluation (a plugin's setup, a template
    call), and the source lines of the failed template calls. Raises LoadFailed when Jsonnet fails."""
    environ = os.environ if opts.environ is None else opts.environ
    funcs = functions.builtin_functions(opts.environ)
    natives = base_natives(environ)
    plugin_problems: list[Problem] = []
    if "plugins" in text or "import" in text:
        entries = _field(path, text, opts, natives, "plugins", funcs)
        if entries:
            from ecsched.config import plugins

            try:
                region = _field(path, text, opts, natives, "region", funcs)
            except LoadFailed:  # reported by the full evaluation below, where it belongs
                region = None
            plugin_problems = plugins.setup(entries, funcs, config_path=path, aws_factory=opts.aws_factory,
                                            region=region if isinstance(region, str) else None,
                                            environ=opts.environ)
            natives.update(funcs.natives)
    try:
        out = _run(path, text, opts, natives)
    except RuntimeError as e:
        failure = _failure(e, path)
        if plugin_problems and "plugin: declare it under `plugins:`" in str(e):
            raise LoadFailed(plugin_problems) from None  # a native of the plugin that failed to set up
        raise LoadFailed(plugin_problems + failure.problems) from None
    if "{{" not in out:
        return out, plugin_problems, set()
    failed: set[int] = set()
    rendered, problems = template.render(out, funcs, file=path, source=text, failed=failed)
    if plugin_problems:  # a call of a plugin that failed to set up would only repeat it
        problems = [p for p in problems if not p.message.startswith(functions.MISSING_FUNCTION_PREFIXES)]
    return rendered, plugin_problems + problems, failed
