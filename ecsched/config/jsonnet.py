"""Jsonnet files: `std.extVar` from --ext-str/--ext-code, and native functions as ecspresso offers them.

`std.native('env')(name, default)` and `std.native('must_env')(name)` let non-string fields
(`disabled`, `taskCount`) come from the environment. Plugins add their own natives.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ecsched.errors import Problem

if TYPE_CHECKING:
    from ecsched.config.loader import LoadOptions

# Extra natives registered by plugins: name -> (params, fn).
NATIVES: dict[str, tuple[tuple[str, ...], Callable[..., Any]]] = {}

_LOC = re.compile(r"(?P<file>[^\s:]+\.(?:jsonnet|libsonnet|json)):(?P<line>\d+):(?P<col>\d+)")


def evaluate(path: str, text: str, opts: LoadOptions) -> str:
    import _jsonnet

    from ecsched.config.loader import LoadFailed

    environ = os.environ if opts.environ is None else opts.environ

    def env(name: str, default: Any = "") -> Any:
        return environ.get(name, default)

    def must_env(name: str) -> str:
        if name not in environ:
            raise RuntimeError(f"environment variable {name} is not set (required by must_env)")
        return environ[name]

    natives: dict[str, tuple[tuple[str, ...], Callable[..., Any]]] = {
        "env": (("name", "default"), env),
        "must_env": (("name",), must_env),
        **NATIVES,
    }
    try:
        out: str = _jsonnet.evaluate_snippet(
            path, text, ext_vars=dict(opts.ext_str), ext_codes=dict(opts.ext_code),
            native_callbacks=natives, jpathdir=[os.path.dirname(os.path.abspath(path))],
        )
    except RuntimeError as e:
        msg = str(e).strip()
        first = msg.splitlines()[0] if msg else "evaluation failed"
        m = _LOC.search(msg)
        hint = ""
        if "Undefined external variable" in msg:
            hint = " (pass it with --ext-str K=V or --ext-code K=V)"
        if m:
            raise LoadFailed([Problem(f"Jsonnet: {first}{hint}", file=m["file"], line=int(m["line"]),
                                      col=int(m["col"]))]) from None
        raise LoadFailed([Problem(f"Jsonnet: {first}{hint}", file=path)]) from None
    return out
