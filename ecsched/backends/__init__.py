"""Backends: EventBridge rules (`rules`) and EventBridge Scheduler (`scheduler`). See `base` for what
each provides; `get_backend` is the one way in."""

from __future__ import annotations

from ecsched.aws import DEFAULT_PARALLEL, Aws
from ecsched.backends.base import Backend, BaseBackend

__all__ = ["Backend", "BaseBackend", "get_backend"]


def get_backend(name: str, aws: Aws, region: str, parallel: int = DEFAULT_PARALLEL) -> Backend:
    if name == "scheduler":
        from ecsched.backends.scheduler import SchedulerBackend

        return SchedulerBackend(aws, region, parallel=parallel)
    from ecsched.backends.rules import RulesBackend

    return RulesBackend(aws, region, parallel=parallel)
