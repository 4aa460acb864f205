"""Who holds a lock: the ECS task ARN inside ECS, otherwise the host and process (and, for people, who)."""

from __future__ import annotations

import getpass
import json
import os
import socket
import urllib.request
from collections.abc import Mapping


def owner_identity(environ: Mapping[str, str] | None = None, timeout: float = 2.0,
                   *, person: bool = False) -> tuple[str, str | None]:
    """(owner, warning). The ECS task ARN from the task metadata endpoint v4, else `host:pid`
    (`user@host:pid` with `person`, for commands people and CI run)."""
    env = os.environ if environ is None else environ
    fallback = f"{socket.gethostname()}:{os.getpid()}"
    if person:
        fallback = f"{_user()}@{fallback}"
    base = env.get("ECS_CONTAINER_METADATA_URI_V4")
    if not base:
        return fallback, None
    try:
        with urllib.request.urlopen(base.rstrip("/") + "/task", timeout=timeout) as resp:
            arn = json.loads(resp.read().decode("utf-8")).get("TaskARN")
        if isinstance(arn, str) and arn:
            return arn, None
        problem = "no TaskARN in the answer"
    except (OSError, ValueError) as e:
        problem = str(e)
    return fallback, f"cannot read the task ARN from the ECS metadata endpoint ({problem}); owner: {fallback}"


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry and no $USER, as in some containers
        return "unknown"


def region_of_arn(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" and parts[3] else None
