"""Keep secret values out of every output (diff, markdown, json, render, dump). They are still applied.

A value is sensitive when it came from a SecureString (plugins call `mark_sensitive`), or when its
environment key matches SENSITIVE_KEYS (case-insensitive globs).
"""

from __future__ import annotations

import fnmatch
from typing import Any

MASK = "(sensitive)"
SENSITIVE_KEYS = ["*SECRET*", "*PASSWORD*", "*TOKEN*", "*_KEY"]
_sensitive_values: set[str] = set()


def mark_sensitive(value: str) -> None:
    if value:
        _sensitive_values.add(value)


def is_sensitive(key: str, value: str) -> bool:
    k = key.upper()
    return value in _sensitive_values or any(fnmatch.fnmatchcase(k, p.upper()) for p in SENSITIVE_KEYS)


def mask_env(env: dict[str, Any]) -> dict[str, Any]:
    return {k: (MASK if is_sensitive(str(k), str(v)) else v) for k, v in env.items()}


def mask_config(data: Any) -> Any:
    """A copy of a config-shaped dict with sensitive environment values replaced."""
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            if k == "environment" and isinstance(v, dict):
                out[k] = mask_env(v)
            else:
                out[k] = mask_config(v)
        return out
    if isinstance(data, list):
        return [mask_config(v) for v in data]
    if isinstance(data, str) and data in _sensitive_values:
        return MASK
    return data
