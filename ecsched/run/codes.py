"""Exit codes, as `docker run` has them, and the one for a single stopped task."""

from __future__ import annotations

from typing import Any

from ecsched.errors import EcschedError

EXIT_TIMEOUT = 124  # --timeout, like timeout(1)
EXIT_NOT_STARTED = 125  # ecsched could not start the task, or lost track of it: never the container's code


class NotStarted(EcschedError):
    """ecsched could not start the task: exit 125, like `docker run`."""

    exit_code = EXIT_NOT_STARTED


def task_exit_code(task: dict[str, Any], essential: list[str] | None) -> int:
    """`docker run`'s contract for one stopped task.

    The first non-zero exit code among the essential containers (task-definition order); 125 when the
    task failed to start or an essential container has no exit code; else 0. `essential` None: all are.
    """
    if task.get("stopCode") == "TaskFailedToStart":
        return EXIT_NOT_STARTED
    by_name = {str(c.get("name")): c for c in task.get("containers") or []}
    names = [n for n in essential if n in by_name] if essential is not None else list(by_name)
    if not names:
        return EXIT_NOT_STARTED
    codes = [by_name[n].get("exitCode") for n in names]
    for code in codes:
        if code is not None and int(code) != 0:
            code = int(code)
            # A process exit status is 8 bits: keep 1-255, and never let 256 turn into success.
            return code if 0 < code < 256 else 1
    if any(code is None for code in codes):
        return EXIT_NOT_STARTED
    return 0
