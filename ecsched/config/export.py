"""Shim: `schedule_to_config` lives in the model layer (ecsched.export); `to_yaml` stays here."""

from __future__ import annotations

from typing import Any

from ecsched.export import schedule_to_config

__all__ = ["schedule_to_config", "to_yaml"]


def to_yaml(data: Any) -> str:
    """Block style, but lists of plain values on one line (`command: [php, artisan, x]`), as people write them."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def represent_list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
        flow = bool(items) and all(not isinstance(i, dict | list) for i in items)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)

    Dumper.add_representer(list, represent_list)
    return str(yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False,
                         width=1000))
