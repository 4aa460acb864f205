"""EventBridge Scheduler must be allowed to assume the target's role, or every run would fail to start."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


class RoleCheck:
    """One GetRole per role for the life of this object (one migrate run)."""

    def __init__(self, iam: Callable[[], Any], warn: Callable[[str], None]) -> None:
        self._iam = iam
        self._warn = warn
        self._seen: dict[str, str | None] = {}

    def problem(self, arn: str) -> str | None:
        """Why the schedule could not use role `arn`, or None."""
        if arn not in self._seen:
            self._seen[arn] = self._read(arn)
        return self._seen[arn]

    def _read(self, arn: str) -> str | None:
        iam = self._iam()
        try:
            doc = iam.get_role(RoleName=arn.rsplit("/", 1)[-1])["Role"].get("AssumeRolePolicyDocument")
        except iam.exceptions.NoSuchEntityException:
            return f"role {arn} does not exist"
        except Exception as e:  # no iam:GetRole permission: say so, and go on
            self._warn(f"cannot read role {arn} ({type(e).__name__}); make sure its trust policy allows "
                       "scheduler.amazonaws.com")
            return None
        text = doc if isinstance(doc, str) else json.dumps(doc)
        if "scheduler.amazonaws.com" not in text:
            return (f"role {arn} does not trust scheduler.amazonaws.com, so the schedule could not start the task: "
                    'add "scheduler.amazonaws.com" to Principal.Service in its trust policy, then rerun')
        return None
