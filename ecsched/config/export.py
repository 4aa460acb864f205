"""Shim: `schedule_to_config` lives in the model layer (ecsched.export); `to_yaml` stays here."""

from __future__ import annotations

from typing import Any

from ecsched.export import schedule_to_config

__all__ = ["schedule_to_config", "to_yaml"]


def to_yaml(data: Any) -> str:
    """The one YAML style of every view (see ecsched.yamlio)."""
    from ecsched import yamlio

    return yamlio.dump(data)
