"""The field-level changes of a changed rule, in the file's key names. Pure.

deepdiff compares the two schedules as the file would hold them, with list items matched by identity:
`containerOverrides` by `name`, `capacityProviderStrategy` by `capacityProvider`, and environment by key
(already a mapping in the file). Adding one variable to one container then reads as exactly that:
`containerOverrides[app].environment.NEW_FLAG`, None -> "1". Lists without an identity (command, subnets,
placement) change as a whole. Defaults are values (task count 1, not None). deepdiff is imported only here,
and only for rules that changed: creates and deletes list their top-level keys without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecsched.export import schedule_to_config
from ecsched.model import Schedule


@dataclass(frozen=True)
class FieldChange:
    path: str  # in the file's key names, e.g. "containerOverrides[app].environment.NEW_FLAG"
    before: Any
    after: Any


# List keys whose items have an identity, and the key that holds it.
IDENTITY = {"containerOverrides": "name", "capacityProviderStrategy": "capacityProvider"}
# What the file means when a key is left out, so that a change to or from a default shows the default.
DEFAULTS: dict[str, Any] = {"description": "", "disabled": False, "taskCount": 1, "enableExecuteCommand": False,
                            "enableECSManagedTags": False, "dedupe": False}
_ABSENT = object()


def view(s: Schedule) -> dict[str, Any]:
    """The schedule as the file holds it, defaults explicit, identity lists as mappings (in their order)."""
    d = schedule_to_config(s, mask=False)
    for key, value in DEFAULTS.items():
        d.setdefault(key, value)
    d.setdefault("targetId", s.target.target_id)
    for key, ident in IDENTITY.items():
        if key in d:
            d[key] = {str(item[ident]): {k: v for k, v in item.items() if k != ident} for item in d[key]}
    return d


def changes(before: Schedule | None, after: Schedule | None) -> list[FieldChange]:
    if before is None or after is None:
        a = schedule_to_config(before, mask=False) if before else {}
        b = schedule_to_config(after, mask=False) if after else {}
        return [FieldChange(k, a.get(k), b.get(k)) for k in [*a, *(k for k in b if k not in a)] if a.get(k) != b.get(k)]
    a, b = view(before), view(after)
    found: dict[tuple[Any, ...], tuple[Any, Any]] = {}
    for key in [*a, *(k for k in b if k not in a)]:
        x, y = a.get(key, _ABSENT), b.get(key, _ABSENT)
        if x == y:
            continue
        if not (isinstance(x, dict) and isinstance(y, dict)):  # a value, or a whole list: nothing to match
            found[(key,)] = (x, y)
            continue
        from deepdiff import DeepDiff  # only the mappings that differ: most of its cost is per call

        for levels in DeepDiff(*_differing(x, y), view="tree").values():
            for level in levels:
                found.setdefault(*_leaf(a, b, (key, *level.path(output_format="list"))))
    for key in IDENTITY:  # the same items in another order
        if isinstance(a.get(key), dict) and isinstance(b.get(key), dict) and list(a[key]) != list(b[key]) \
                and set(a[key]) == set(b[key]):
            found.setdefault((key,), (list(a[key]), list(b[key])))
    order = {k: i for i, k in enumerate([*a, *(k for k in b if k not in a)])}
    out = []
    for path in sorted(found, key=lambda p: (order.get(p[0], len(order)), [str(x) for x in p[1:]])):
        x, y = found[path]
        out.append(FieldChange(render_path(path), _file_form(path, x), _file_form(path, y)))
    return out


def _differing(x: dict[str, Any], y: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both mappings without the keys they agree on, at every depth: deepdiff's cost grows with what it
    visits, and an environment of 40 variables where one changed is mostly agreement."""
    out_x: dict[str, Any] = {}
    out_y: dict[str, Any] = {}
    for k in [*x, *(k for k in y if k not in x)]:
        vx, vy = x.get(k, _ABSENT), y.get(k, _ABSENT)
        if vx == vy:
            continue
        if isinstance(vx, dict) and isinstance(vy, dict):
            vx, vy = _differing(vx, vy)
        if vx is not _ABSENT:
            out_x[k] = vx
        if vy is not _ABSENT:
            out_y[k] = vy
    return out_x, out_y


def _leaf(a: dict[str, Any], b: dict[str, Any], path: tuple[Any, ...]) -> tuple[tuple[Any, ...], tuple[Any, Any]]:
    """A deepdiff path and its two values; inside a list without identity, the whole list."""
    cut = next((i for i, part in enumerate(path) if isinstance(part, int)), None)
    if cut is not None:
        path = path[:cut]
    return path, (_get(a, path), _get(b, path))


def render_path(path: tuple[Any, ...]) -> str:
    """('containerOverrides', 'app', 'environment', 'K') -> 'containerOverrides[app].environment.K'."""
    text = ""
    for i, part in enumerate(path):
        if i and path[i - 1] in IDENTITY and i == 1:
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return _ABSENT
    return data


def _file_form(path: tuple[Any, ...], value: Any) -> Any:
    """A value as the file writes it: None when absent, identity mappings back into lists."""
    if value is _ABSENT:
        return None
    if len(path) == 1 and path[0] in IDENTITY and isinstance(value, dict):
        return [{IDENTITY[path[0]]: k, **v} for k, v in value.items()]
    return value
