"""What `status`, `history` and `timeline` read from the file beyond the schedules.

- `history:` (top level): `logGroup` and `retentionDays`, for the history sink;
- `statusGrace` (top level or per rule): how late a tick may be before it counts as missed: minutes as a
  number, or a duration such as `15m` or `1h`. Default 10 minutes;
- the pause reason: the comment `ecsched disable --reason` writes next to `disabled: true`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecsched.errors import EcschedError

if TYPE_CHECKING:
    from ecsched.config import Config
    from ecsched.config.loader import ConfigFile

DEFAULT_GRACE = 600.0
DEFAULT_LOG_GROUP = "/ecsched/history"
DEFAULT_RETENTION = 30
_REASON = re.compile(r"#\s*(.*?)\s*$")
# CloudWatch Logs' allowed retention values.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)


@dataclass(frozen=True)
class History:
    log_group: str
    retention_days: int | None
    file: str


def history(cfg: Config) -> History | None:
    """The first file's `history:` block; `history: {}` takes the defaults. Raises on a bad value."""
    for f in cfg.files:
        block = f.data.get("history")
        if block is None:
            continue
        if block is True:
            block = {}
        if not isinstance(block, dict):
            raise EcschedError(f"{f.path}: `history:` must be a mapping with logGroup and retentionDays")
        group = block.get("logGroup") or DEFAULT_LOG_GROUP
        if not isinstance(group, str) or not re.fullmatch(r"[\.\-_/#A-Za-z0-9]{1,512}", group):
            raise EcschedError(f"{f.path}: history.logGroup `{group}` is not a log group name "
                               "(1-512 of letters, digits and . - _ / #)")
        days = block.get("retentionDays", DEFAULT_RETENTION)
        if days is not None and (isinstance(days, bool) or days not in RETENTION_DAYS):
            raise EcschedError(f"{f.path}: history.retentionDays {days} is not one CloudWatch Logs accepts: "
                               + ", ".join(str(d) for d in RETENTION_DAYS) + " (or null: keep for ever)")
        return History(group, days, f.path)
    return None


def raw_rules(cfg: Config) -> dict[str, tuple[ConfigFile, int, dict[str, Any]]]:
    out: dict[str, tuple[ConfigFile, int, dict[str, Any]]] = {}
    for f in cfg.files:
        for i, r in enumerate(f.data.get("rules") or []):
            if isinstance(r, dict) and isinstance(r.get("name"), str):
                out.setdefault(r["name"], (f, i, r))
    return out


def parse_grace(value: Any, where: str) -> float:
    from ecsched.durations import parse_duration

    if isinstance(value, bool):
        raise EcschedError(f"{where}: statusGrace must be minutes or a duration such as 15m, not {value}")
    if isinstance(value, int | float):
        if value < 0:
            raise EcschedError(f"{where}: statusGrace {value} must not be negative")
        return float(value) * 60
    return parse_duration(str(value), f"{where}: statusGrace")


def grace(cfg: Config, name: str, rules: dict[str, tuple[ConfigFile, int, dict[str, Any]]]) -> float:
    """Seconds of grace for rule `name`: the rule's statusGrace, the file's, else 10 minutes."""
    hit = rules.get(name)
    if hit:
        f, _, r = hit
        if r.get("statusGrace") is not None:
            return parse_grace(r["statusGrace"], f"{f.path}: rule {name}")
        if f.data.get("statusGrace") is not None:
            return parse_grace(f.data["statusGrace"], f.path)
    return DEFAULT_GRACE


def pause_reason(f: ConfigFile, i: int) -> str | None:
    """The comment on the rule's `disabled:` line (YAML only): `paused 2026-12-01: nightly restore`."""
    try:
        line, _ = f.locations[("rules", i, "disabled")]
    except (KeyError, TypeError):
        return None
    if f.source is not None or f.path.endswith(".json"):
        return None
    try:
        with open(f.path, encoding="utf-8") as fh:
            text = fh.read().splitlines()
    except OSError:
        return None
    if not 0 < line <= len(text):
        return None
    code = text[line - 1]
    if "#" not in code:
        return None
    m = _REASON.search(code[code.index("#"):])
    return m.group(1) or None if m else None
