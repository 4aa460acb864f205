"""Backends read live schedules into the model and apply plan changes. Each provides:

    read(names, cluster_arns, *, prune) -> dict[str, plan.Live]
    apply(change) -> list[str]            # the calls made
    set_state(name, enabled) -> None      # `disable/enable --now`
"""

from __future__ import annotations

from typing import Any

from ecsched.aws import Aws


def get_backend(name: str, aws: Aws, region: str, parallel: int = 8) -> Any:
    if name == "scheduler":
        from ecsched.backends.scheduler import SchedulerBackend

        return SchedulerBackend(aws, region, parallel=parallel)
    from ecsched.backends.rules import RulesBackend

    return RulesBackend(aws, region, parallel=parallel)
