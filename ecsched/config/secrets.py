"""Keep secret values out of every output (diff, markdown, json, render, dump). They are still applied.

A value is sensitive when it came from a SecureString or a sensitive Terraform value (plugins call
`mark_sensitive`), or when its environment key matches the sensitive-key globs: case-insensitive,
`*SECRET*`, `*PASSWORD*`, `*TOKEN*` and `*_KEY` by default. The environment variable
`ECSCHED_SENSITIVE_KEYS` (comma-separated globs) replaces that list; set it empty to mask by value only.

    mask_env({"DB_PASSWORD": "x", "MODE": "batch"})   -> {"DB_PASSWORD": "(sensitive)", "MODE": "batch"}
    mask_value("MODE", "batch")                        -> "batch"
"""

from __future__ import annotations

import fnmatch
import os
import threading
from collections.abc import Mapping
from typing import Any

MASK = "(sensitive)"
ENV_VAR = "ECSCHED_SENSITIVE_KEYS"
SENSITIVE_KEYS = ["*SECRET*", "*PASSWORD*", "*TOKEN*", "*_KEY"]
# A marked value this long is also hidden where it is part of a longer string (a URL with a password);
# shorter ones only where they are the whole value, or `1` would mask every string with a 1 in it.
MIN_EMBEDDED = 4

_sensitive_values: set[str] = set()
_lock = threading.Lock()


def mark_sensitive(value: str) -> None:
    if value:
        with _lock:
            _sensitive_values.add(value)


def clear_sensitive() -> None:
    """Forget marked values (a new run in the same process; tests)."""
    with _lock:
        _sensitive_values.clear()


def sensitive_key_patterns(environ: Mapping[str, str] | None = None) -> list[str]:
    """The globs in force: ECSCHED_SENSITIVE_KEYS when it is set (even empty), else SENSITIVE_KEYS."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_VAR)
    if raw is None:
        return list(SENSITIVE_KEYS)
    return [p.strip() for p in raw.split(",") if p.strip()]


def is_sensitive_key(key: str, environ: Mapping[str, str] | None = None) -> bool:
    k = str(key).upper()
    return any(fnmatch.fnmatchcase(k, p.upper()) for p in sensitive_key_patterns(environ))


def is_sensitive_value(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    with _lock:
        marked = list(_sensitive_values)
    return any(value == s or (len(s) >= MIN_EMBEDDED and s in value) for s in marked)


def is_sensitive(key: str, value: Any) -> bool:
    return is_sensitive_value(value if isinstance(value, str) else str(value)) or is_sensitive_key(key)


def mask_value(key: str, value: Any) -> Any:
    """`value`, or MASK when it is sensitive (by its key or by its value)."""
    return MASK if is_sensitive(key, value) else value


def mask_env(env: Mapping[str, Any]) -> dict[str, Any]:
    return {k: mask_value(str(k), v) for k, v in env.items()}


def mask_config(data: Any) -> Any:
    """A copy of a config-shaped value with sensitive environment values (and marked values anywhere)
    replaced by MASK."""
    if isinstance(data, dict):
        out: dict[Any, Any] = {}
        for k, v in data.items():
            if k == "environment" and isinstance(v, dict):
                out[k] = mask_env(v)
            elif k == "environment" and isinstance(v, list):  # [{name, value}], as in a target's Input
                out[k] = [_mask_pair(item) for item in v]
            else:
                out[k] = mask_config(v)
        return out
    if isinstance(data, list):
        return [mask_config(v) for v in data]
    if isinstance(data, str) and is_sensitive_value(data):
        return MASK
    return data


def _mask_pair(item: Any) -> Any:
    if isinstance(item, dict) and "name" in item and "value" in item:
        return {**item, "value": mask_value(str(item["name"]), item["value"])}
    return mask_config(item)
