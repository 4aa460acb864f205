"""What `status`, `history` and `timeline` share: the zone to show times in, the selected schedules and
what the file says about each, and how times are written."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from ecsched.errors import EcschedError

if TYPE_CHECKING:
    from ecsched.arns import Account
    from ecsched.config import Config
    from ecsched.model import Schedule


@dataclass
class Extras:
    """Per schedule, what the file says beyond the model."""

    grace: float = 600.0
    pause_reason: str | None = None


def local_zone() -> str:
    """The machine's IANA zone: $TZ, else /etc/localtime's target, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and ("/" in tz or tz == "UTC"):
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return "UTC"
    marker = "/zoneinfo/"
    if marker in target:
        return target.split(marker, 1)[1]
    return "UTC"


def zone(name: str | None) -> tuple[str, tzinfo]:
    """(name, tzinfo) of `--tz`, the machine's zone when absent; one clear error for an unknown name."""
    from zoneinfo import ZoneInfo

    tz = name or local_zone()
    if tz == "UTC":
        return tz, UTC
    try:
        return tz, ZoneInfo(tz)
    except (KeyError, ValueError, OSError):
        raise EcschedError(f"--tz {tz}: unknown time zone; use an IANA name such as Asia/Tokyo or UTC") from None


def when(t: datetime | None, tz: tzinfo, *, utc_too: bool = True, date: bool = True) -> str:
    """`Wed 12-02 03:00 JST (18:00 UTC)`: the UTC time only where the zone differs."""
    if t is None:
        return "-"
    local = t.astimezone(tz)
    text = local.strftime("%a %m-%d %H:%M %Z" if date else "%H:%M %Z")
    if utc_too and local.utcoffset() != timedelta(0):
        text += t.astimezone(UTC).strftime(" (%H:%M UTC)")
    return text


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    v = round(value)
    if v < 60:
        return f"{v}s"
    if v < 3600:
        return f"{v // 60}m{v % 60:02d}s"
    return f"{v // 3600}h{(v % 3600) // 60:02d}m"


def selected(cfg: Config, account: Account, region: str | None, patterns: list[str] | None
             ) -> tuple[list[Schedule], dict[str, Extras]]:
    """The schedules `--rule` selects (all without it) and their extras (grace, pause reason)."""
    from ecsched.insight import settings
    from ecsched.plan import select

    schedules = cfg.schedules(account, region)
    names = select([s.name for s in schedules], patterns)
    if patterns and not names:
        raise EcschedError(f"no rule in the file matches {', '.join(patterns)}")
    rules = settings.raw_rules(cfg)
    extras: dict[str, Extras] = {}
    chosen = [s for s in schedules if s.name in names]
    for s in chosen:
        hit = rules.get(s.name)
        reason = settings.pause_reason(hit[0], hit[1]) if hit and not s.enabled else None
        extras[s.name] = Extras(grace=settings.grace(cfg, s.name, rules), pause_reason=reason)
    return chosen, extras
